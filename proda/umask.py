"""File modes that respect the user's umask, for files people read, review and commit (patch
files, exports) — ``tempfile.mkstemp``, used for atomic writes, creates them 0600."""

from __future__ import annotations

import os
import threading

_guard = threading.Lock()


def readable_mode(base: int = 0o666) -> int:
    """``base`` with the process umask applied: what ``open()`` would have created."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return base & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _guard:  # os.umask can only be read by setting it
        mask = os.umask(0o022)
        os.umask(mask)
    return base & ~mask
