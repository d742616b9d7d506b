import subprocess
import sys

from turbosim_hep.cli import VERBS, build_parser, main


def test_help_lists_every_verb(capsys):
    parser = build_parser()
    text = parser.format_help()
    for verb in VERBS:
        assert verb.replace("_", "-") in text


def test_no_verb_prints_help_and_fails(capsys):
    assert main([]) == 2
    assert "VERB" in capsys.readouterr().out


def test_console_module_runs_without_heavy_imports():
    code = (
        "import sys, turbosim_hep.cli as c; c.build_parser();"
        "heavy = [m for m in ('torch', 'pythia8mc', 'coffea', 'mplhep') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
