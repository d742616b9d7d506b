"""The efficiency model inside a model file: the optional ``efficiency`` entry, read and attached.

Any model file of the toolkit (a Turbo-Sim checkpoint, the OTUS or lookup baseline) may carry the plain-data entry
``efficiency`` (:meth:`turbosim_hep.simulation.efficiency.EfficiencyModel.to_entry`) beside its own keys; files without
it load as before. :func:`attach_efficiency` writes a *new* file: the input's content plus the entry, the content
digest recomputed (:func:`turbosim_hep.io.safe_torch.content_digest`), written atomically; the input is never
overwritten.
"""

from __future__ import annotations

import os
from pathlib import Path

from turbosim_hep.io.safe_torch import ModelFile, content_digest
from turbosim_hep.simulation.efficiency import EfficiencyModel

__all__ = ("ENTRY_KEY", "attach_efficiency", "load_efficiency", "read_efficiency")

#: Key of the efficiency model in a model file's content.
ENTRY_KEY = "efficiency"


def read_efficiency(model_file: ModelFile) -> EfficiencyModel | None:
    """The efficiency model a model file carries, or ``None`` when it has none (every file written before it)."""
    content = model_file.content
    if not isinstance(content, dict) or content.get(ENTRY_KEY) is None:
        return None
    return EfficiencyModel.from_entry(content[ENTRY_KEY], source=f"model file {str(model_file.path)!r}")


def load_efficiency(path: str | os.PathLike) -> EfficiencyModel:
    """The efficiency model in ``path``: a model file that carries one, or an entry saved on its own
    (``torch.save(model.to_entry(), path)``). ``ValueError`` naming the file when it holds neither."""
    from turbosim_hep.io.safe_torch import open_model_file
    from turbosim_hep.simulation.efficiency import ENTRY_FORMAT

    model_file = open_model_file(path)
    if isinstance(model_file.content, dict) and model_file.content.get("format") == ENTRY_FORMAT:
        return EfficiencyModel.from_entry(model_file.content, source=f"efficiency file {str(path)!r}")
    efficiency = read_efficiency(model_file)
    if efficiency is None:
        raise ValueError(
            f"{str(path)!r} carries no selection efficiency; train one with 'turbosim train-efficiency' and pass "
            "the model file it writes"
        )
    return efficiency


def attach_efficiency(
    model: str | os.PathLike | ModelFile, out: str | os.PathLike, efficiency: EfficiencyModel
) -> Path:
    """Write ``out``: the model file ``model`` (a path, or a file already read, e.g. by
    :func:`turbosim_hep.simulation.registry.open_model`, which also takes a shipped model's name) plus ``efficiency``.

    The input must be a model file of the toolkit whose content digest holds (not edited); an efficiency it already
    carries is replaced. ``ValueError`` when it is not, or when ``out`` is the input (inputs are never overwritten);
    the file appears only once complete.
    """
    import torch

    from turbosim_hep.io.atomic import atomic_path
    from turbosim_hep.io.safe_torch import open_model_file

    model_file = model if isinstance(model, ModelFile) else open_model_file(model)
    path, content = model_file.path, model_file.content
    if not isinstance(content, dict) or not isinstance(content.get("format"), str) or "digest" not in content:
        raise ValueError(f"{str(path)!r} is not a model file of turbosim-hep (no 'format' and 'digest' keys)")
    if content["digest"] != content_digest(content):
        raise ValueError(f"model file {str(path)!r} fails its integrity check (edited after it was written)")
    if Path(out).resolve() == path.resolve():
        raise ValueError(
            f"refusing to write {str(out)!r}: it is the input model; give the model with the efficiency a new name"
        )
    content = {k: v for k, v in content.items() if k != "digest"}
    content[ENTRY_KEY] = efficiency.to_entry()
    content["digest"] = content_digest(content)
    with atomic_path(out, inputs=[path]) as tmp:
        torch.save(content, tmp)
    return Path(out)
