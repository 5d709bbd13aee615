"""Damaged state under ``build/``: moved aside to ``build/damaged/`` (kept for inspection,
deletable), and said in one line on stderr. Used by the integrity checks and the catalog."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from . import layout


def move_aside_path(root: Path, path: Path) -> str:
    try:
        name = Path(path).relative_to(root / "build").as_posix()
    except ValueError:
        name = Path(path).name
    base = layout.damaged(root / "build") / f"{name.replace('/', '__')}.{time.strftime('%Y%m%d-%H%M%S')}"
    dest, n = base, 1
    while dest.exists() or dest.is_symlink():
        n += 1
        dest = base.with_name(f"{base.name}~{n}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, dest)
    return dest.relative_to(root).as_posix()


def say(line: str) -> None:
    """One line on the real stderr — also from inside a doit action, whose output doit captures."""
    print(line, file=sys.__stderr__ or sys.stderr, flush=True)
