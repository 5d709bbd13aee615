"""The project lock: two builds never write ``build/`` at once; the second says who holds it."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
import threading
import time
from typing import TYPE_CHECKING, Iterator

from ..errors import LockError
from . import layout

if TYPE_CHECKING:
    from ..project import Project

_held: dict[str, object] = {}
_guard = threading.Lock()


@contextlib.contextmanager
def hold(project: "Project", reentrant: bool = False) -> Iterator[None]:
    path = layout.lock(project.build)
    key = str(path)
    with _guard:
        if key in _held:
            if not reentrant:
                raise LockError("this process already holds the project lock")
            owner = False
        else:
            project.build.mkdir(parents=True, exist_ok=True)
            fh = open(path, "a+")
            try:
                _take(fh)
            except BlockingIOError:
                fh.seek(0)
                who = fh.read().strip() or "another process"
                fh.close()
                raise LockError(f"another build holds the project lock: {who}",
                                "wait for it to finish, or stop that process") from None
            fh.seek(0)
            fh.truncate()
            fh.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                 "command": " ".join(sys.argv[:3]),
                                 "since": time.strftime("%Y-%m-%d %H:%M:%S")}))
            fh.flush()
            _held[key] = fh
            # reentrant callers (doit actions under plain `doit`) keep it until the process exits
            owner = not reentrant
    try:
        yield
    finally:
        if owner:
            with _guard:
                fh = _held.pop(key)
                fcntl.flock(fh, fcntl.LOCK_UN)
                fh.close()


def _take(fh) -> None:
    """The exclusive lock, or BlockingIOError. A few short retries: a reading command checks
    the lock with a shared lock for a moment (:func:`held_elsewhere`) and must not fail a build."""
    for attempt in range(10):
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if attempt == 9:
                raise
            time.sleep(0.02)


def held_elsewhere(build) -> bool:
    """True while another process (a running build) holds the lock of this ``build/`` folder."""
    path = layout.lock(build)
    if str(path) in _held or not path.exists():
        return False
    try:
        fh = open(path, "r")
    except OSError:
        return False
    try:
        fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        fh.close()  # closing releases a lock we took
    return False
