"""Exports never overwrite what proda did not write.

An export may replace an existing path only when it is a previous export of the same format: a
folder holding proda's marker ``.proda-export.json`` for that format, or a file that
``build/exports.json`` records as written by proda in that format and unchanged since. An empty
folder is fine too. Anything else — a config, a README, a folder of the user's files — is refused
unless ``--force`` says to replace it. Paths inside ``specs/`` (the project's source) or
``build/`` (proda's own state) are refused whatever the flag.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UsageError

if TYPE_CHECKING:
    from ..project import Project

MARKER = ".proda-export.json"
OWN_GUARD = {"knowledge"}  # formats that check the files they write themselves (export/knowledge.py)


def _registry(project: "Project") -> Path:
    return project.build / "exports.json"


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def check(project: "Project", out: Path, fmt: str, force: bool) -> None:
    """Raise UsageError unless writing export ``fmt`` to ``out`` replaces nothing of the user's."""
    out = out.resolve()
    for inside, what in ((project.specs, "the project's specs"), (project.build, "proda's build folder")):
        if out == inside.resolve() or inside.resolve() in out.parents:
            raise UsageError(f"{out} is inside {what}; an export there could replace a source file",
                             "export to a path outside specs/ and build/")
    if force or fmt in OWN_GUARD or not (out.exists() or out.is_symlink()):
        return
    if out.is_dir() and not out.is_symlink():
        marker = _read(out / MARKER)
        if marker.get("format") == fmt or not any(out.iterdir()):
            return
        what = (f"a previous {marker['format']} export" if marker.get("format")
                else "a folder that proda did not write")
    else:
        from ..hashing import file_digest

        entry = _read(_registry(project)).get(str(out), {})
        try:
            same = entry.get("format") == fmt and entry.get("hash") == file_digest(out)
        except OSError:
            same = False
        if same:
            return
        what = (f"a previous {entry['format']} export" if entry.get("format") and entry["format"] != fmt
                else "a file that proda did not write (or that changed since it was exported)")
    raise UsageError(f"{out} exists and is {what}; the {fmt} export would overwrite it",
                     "choose another path, or pass --force to replace it")


def record(project: "Project", out: Path, fmt: str) -> None:
    """Remember that proda wrote ``out`` in format ``fmt`` (so exporting there again is allowed)."""
    from ..engine.storage import write_json
    from ..hashing import file_digest

    out = out.resolve()
    if out.is_dir():
        write_json(out / MARKER, {"format": fmt, "project": str(project.root)})
        return
    registry = _read(_registry(project))
    registry[str(out)] = {"format": fmt, "hash": file_digest(out)}
    write_json(_registry(project), registry)
