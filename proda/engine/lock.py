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
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
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
