"""Advice in error messages that fits where the call came from: a flag on the command line, a keyword in Python.

The library raises errors that say what to do next. ``turbosim train`` should say "rerun with --resume", a
Python caller "pass resume=True"; :func:`option` picks the wording and :func:`command_line` (entered by
:func:`turbosim_hep.cli.main` around every verb) switches it to flags.

Example
-------
>>> option(python="overwrite=True", cli="--overwrite")
'overwrite=True'
>>> with command_line():
...     option(python="overwrite=True", cli="--overwrite")
'--overwrite'
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

__all__ = ("command_line", "in_command_line", "option")

_CLI: contextvars.ContextVar[bool] = contextvars.ContextVar("turbosim_cli", default=False)


@contextlib.contextmanager
def command_line() -> Iterator[None]:
    """Within the block, :func:`option` words advice as command-line flags."""
    token = _CLI.set(True)
    try:
        yield
    finally:
        _CLI.reset(token)


def in_command_line() -> bool:
    """Whether the running call came from the ``turbosim`` command."""
    return _CLI.get()


def option(*, python: str, cli: str) -> str:
    """``cli`` (e.g. ``"--overwrite"``) inside :func:`command_line`, else ``python`` (e.g. ``"overwrite=True"``)."""
    return cli if _CLI.get() else python
