"""The ``turbosim`` command: a thin shell over the library, one module per verb.

Each verb module in :data:`VERBS` defines ``register(subparsers)``, which adds its parser and sets ``func`` to a
callable taking the parsed arguments and returning an exit code. Defaults live in the library functions the verbs
call, not here. Errors from user input print as one line; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from turbosim_hep import __version__

__all__ = ("VERBS", "build_parser", "main")

#: Verb modules under ``turbosim_hep.cli``, in the order ``--help`` lists them.
VERBS: tuple[str, ...] = (
    "demo",
    "generate",
    "train",
    "train_efficiency",
    "evaluate",
    "simulate",
    "unfold",
    "export",
    "import_otus",
    "baseline_otus",
    "baseline_lookup",
)

_USER_ERRORS = (
    ValueError,
    TypeError,
    FileNotFoundError,
    FileExistsError,
    KeyError,
    OSError,
    RuntimeError,
    ModuleNotFoundError,  # an optional dependency, with the pip command to install it
)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every verb registered."""
    parser = argparse.ArgumentParser(
        prog="turbosim",
        description="Turbo-Sim fast simulation for HEP: generate, train, simulate, unfold, evaluate.",
    )
    parser.add_argument("--version", action="version", version=f"turbosim-hep {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    for verb in VERBS:
        importlib.import_module(f"turbosim_hep.cli.{verb}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``turbosim`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    missing = _missing_directories(args)
    status = _run(args)
    if status != 0:
        _remove_if_empty(missing)  # a run that failed before writing leaves no empty output directories behind
    return status


def _run(args: argparse.Namespace) -> int:
    from turbosim_hep.runtime.advice import command_line

    def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
        # one line per warning, like the errors; the source line of the warning call is of no use on the command line
        print(f"turbosim {args.verb}: warning: {_one_line(message)}", file=sys.stderr, flush=True)

    try:
        with command_line(), warnings.catch_warnings():
            warnings.showwarning = show_warning
            return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("turbosim: interrupted; completed work is kept and a rerun resumes from it", file=sys.stderr)
        return 130
    except _USER_ERRORS as err:
        if args.debug:
            raise
        print(f"turbosim {args.verb}: error: {_one_line(err)}", file=sys.stderr)
        return 1
    except Exception as err:  # a bug or an unforeseen input: still one line, the traceback behind --debug
        if args.debug:
            raise
        print(
            f"turbosim {args.verb}: internal error ({type(err).__name__}): {_one_line(err)}; "
            "rerun with --debug for the traceback and report it",
            file=sys.stderr,
        )
        return 1


def _missing_directories(args: argparse.Namespace) -> list[Path]:
    """Output directories named by ``--out``/``OUTPUT`` (and their parents) that do not exist yet, deepest first."""
    found: list[Path] = []
    for name in ("out", "output"):
        value = getattr(args, name, None)
        if not isinstance(value, str):
            continue
        for d in (Path(value), *Path(value).parents):
            if d.exists():
                break
            if d not in found:
                found.append(d)
    return sorted(found, key=lambda d: len(d.parts), reverse=True)


def _remove_if_empty(directories: list[Path]) -> None:
    for d in directories:
        try:
            d.rmdir()  # only an empty directory goes
        except OSError:
            pass


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    if isinstance(err, KeyError) and text.startswith("'") and text.endswith("'"):
        text = text[1:-1]
    return text or type(err).__name__


if __name__ == "__main__":
    sys.exit(main())
