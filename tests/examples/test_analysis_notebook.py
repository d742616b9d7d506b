"""examples/analysis.ipynb runs from top to bottom on a tiny sample and an untrained model (so it cannot rot)."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import toy_features
from turbosim_hep.events.features import events_from_features
from turbosim_hep.io.root import write_events

NOTEBOOK = Path(__file__).parents[2] / "examples" / "analysis.ipynb"


def _outputs(cell) -> tuple[str, set[str]]:
    text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    kinds = {k for o in cell.outputs if o.output_type in ("display_data", "execute_result") for k in o.data}
    return text, kinds


def _kernel_for_this_interpreter(root: Path) -> str:
    """A kernelspec running ``sys.executable`` (the Python this checkout is installed in), found first on JUPYTER_PATH:
    a user's own "python3" kernel may run another interpreter."""
    spec = root / "kernels" / "turbosim-test"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "turbosim test", "language": "python"}))
    return spec.name


@pytest.mark.slow
def test_analysis_notebook_runs_on_a_tiny_sample_and_draws_the_masses(tmp_path, model_path, monkeypatch):
    import nbclient
    import nbformat

    rng = np.random.default_rng(3)
    n = 200
    events = events_from_features(z=toy_features(n, rng), x=toy_features(n, rng, massless=True), event=np.arange(n))
    write_events(tmp_path / "data" / "chunk-0000.root", events)
    monkeypatch.setenv("TURBOSIM_MODEL", str(model_path))
    monkeypatch.setenv("TURBOSIM_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    kernel = _kernel_for_this_interpreter(tmp_path / "jupyter")

    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell("import sys; print(sys.prefix)"))
    client = nbclient.NotebookClient(
        nb, kernel_name=kernel, timeout=120, resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()

    code = [c for c in nb.cells if c.cell_type == "code"]
    assert _outputs(code[0])[0].strip() == sys.prefix
    printed = "".join(_outputs(c)[0] for c in code)
    assert f"{n} events;" in printed
    assert f"{5 * n} simulated events from {n} parton events" in printed
    masses = [c for c in code if "processor_figure(hists)" in c.source]
    assert len(masses) == 1 and "image/png" in _outputs(masses[0])[1], "the mass comparison figure was not drawn"
