"""Progress bars for long steps (rich), with an events/s readout."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

__all__ = ("progress_bar",)


class _RateColumn(ProgressColumn):
    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} {self.unit}/s" if speed else f"- {self.unit}/s", style="progress.data.speed")


class _Bar:
    """Handle returned by :func:`progress_bar`: ``advance(n)``, ``update(**fields)``."""

    def __init__(self, progress: Progress | None, task: int | None) -> None:
        self._progress, self._task = progress, task

    def advance(self, n: float = 1) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, n)

    def update(self, *, description: str | None = None, total: float | None = None) -> None:
        if self._progress is not None:
            self._progress.update(self._task, description=description, total=total)


@contextlib.contextmanager
def progress_bar(
    total: float | None, description: str, *, unit: str = "events", disable: bool | None = None
) -> Iterator[_Bar]:
    """Context manager showing a progress bar on stderr; ``disable=None`` hides it when stderr is no terminal."""
    if disable is None:
        disable = not sys.stderr.isatty()
    if disable:
        yield _Bar(None, None)
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(unit),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        yield _Bar(progress, progress.add_task(description, total=total))
