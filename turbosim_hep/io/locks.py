"""One run per output directory: an advisory lock that a second ``simulate`` or ``generate`` meets and names.

Two runs writing into one directory would take each other's live temporary files for those of a killed run and
delete them. :func:`directory_lock` takes an exclusive ``flock`` on ``DIR/.turbosim.lock`` for the whole run; a
second run fails at once with a message naming the directory and the holder (its pid, host and verb). The kernel
drops the lock when its process dies, even by ``kill -9``, so a killed run never blocks the next one; the file is
removed when the run ends, and so are the directories the lock created if the run left them empty.

``flock`` is local to one machine on some network filesystems; dask workers write only the files their task was
given, and the lock is held by the process that plans the run (the client).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ("LOCK_NAME", "DirectoryBusyError", "directory_lock")

#: Name of the lock file inside an output directory.
LOCK_NAME = ".turbosim.lock"


class DirectoryBusyError(FileExistsError):
    """Another live run holds the output directory."""


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return "another turbosim run"
    if not isinstance(info, dict) or "pid" not in info:
        return "another turbosim run"
    return f"another 'turbosim {info.get('verb', '?')}' (pid {info['pid']} on {info.get('host', '?')})"


@contextlib.contextmanager
def directory_lock(directory: str | os.PathLike, *, verb: str, flag: str = "--out") -> Iterator[Path]:
    """Hold an exclusive lock on ``directory`` (created) for the block; ``DirectoryBusyError`` if a live run has it.

    ``verb`` is recorded in the lock file for the other run's message; ``flag`` names the option in it.
    """
    directory = Path(directory)
    created = [d for d in (directory, *directory.parents) if not d.exists()]
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / LOCK_NAME
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DirectoryBusyError(
                f"{flag} {str(directory)!r} is in use by {_holder(path)}, which is writing into it now; wait for it "
                f"to finish or choose another {flag}"
            ) from None
        # the previous holder may have removed the file between our open and our lock: lock the file on disk
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        record = {"pid": os.getpid(), "host": socket.gethostname(), "verb": verb, "since": time.time()}
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(record).encode())
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        os.close(fd)
        for d in created:  # a run that failed before writing anything leaves no empty directories behind
            try:
                d.rmdir()
            except OSError:
                break
