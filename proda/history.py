"""Versions and tags: ``proda log`` and ``proda tag``."""

from __future__ import annotations

from . import versions
from .catalog import open_catalog


def log(project) -> dict:
    if not project.catalog_path.exists():
        return {"versions": []}
    with open_catalog(project, read_only=True) as cat:
        rows = cat.query("SELECT id, CAST(created AS VARCHAR) FROM versions ORDER BY created DESC, id")
        tags = cat.query("SELECT name, version FROM tags ORDER BY name")
    by_version: dict[str, list[str]] = {}
    for name, vid in tags:
        by_version.setdefault(vid, []).append(name)
    return {"versions": [{"id": vid, "created": created, "tags": by_version.get(vid, [])}
                         for vid, created in rows]}


def tag(project, name: str, ref: str | None = None) -> str:
    from .errors import UsageError

    if ref is None:
        vid = versions.record(project)
    with open_catalog(project) as cat:
        if ref is not None:
            vid = versions.resolve(project, cat, ref)
        if not cat.query("SELECT 1 FROM versions WHERE id = ?", [vid]):
            raise UsageError(f"version {vid} is not recorded", "run `proda build` first")
        cat.execute("INSERT OR REPLACE INTO tags (name, version) VALUES (?, ?)", [name, vid])
    return vid
