"""Build versions: a version id is derived from content only — the hash of every stage
manifest's recipe and output object — so an incremental and a clean build of the same specs
have the same id. ``record`` stores it in the catalog (once) with its manifests and stage runs;
``log`` and ``tag`` are ``proda log`` and ``proda tag``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import json
import time

from . import layout, stage as stages, storage
from ..hashing import digest

if TYPE_CHECKING:
    from ..project import Project


def manifests(project: "Project") -> dict[str, dict]:
    found = {}
    for name in stages.ORDER:
        folder = layout.stage_dir(project.build, name)
        if folder.is_dir():
            for path in sorted(folder.glob("*.json")):
                found[f"{name}:{path.stem}"] = storage.read_json(path)
    return found


def version_id(found: dict[str, dict]) -> str:
    return digest(sorted((task, m["object"], digest(m["recipe"]), digest(m.get("extra", {})))
                         for task, m in found.items()))[:16]


def current(project: "Project") -> str:
    return version_id(manifests(project))


def record(project: "Project") -> str:
    found = manifests(project)
    vid = version_id(found)
    marker = layout.version_marker(project.build)
    last = storage.read_json(marker) if marker.exists() else {}
    runs = _new_runs(project, last.get("recorded", 0.0))
    if last.get("id") == vid and not runs:
        return vid
    from .catalog import open_catalog

    counts: dict[str, int] = {}
    for m in found.values():
        for kind, n in m["kinds"].items():
            counts[kind] = counts.get(kind, 0) + n
    with open_catalog(project) as cat:
        cat.execute("INSERT OR IGNORE INTO versions (id, manifests, counts) VALUES (?, ?, ?)",
                    [vid, json.dumps({t: {"object": m["object"], "extra": m.get("extra", {})}
                                for t, m in found.items()}, sort_keys=True),
                     json.dumps(counts, sort_keys=True)])
        for run in runs:
            cat.execute("INSERT INTO stage_runs VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [vid, run["stage"], run["shard"], run["built"], run["reused"],
                         run["seconds"], run["finished"]])
    storage.write_json(marker, {"id": vid, "recorded": time.time()})
    return vid


def _new_runs(project: "Project", since: float) -> list[dict]:
    folder = layout.runs(project.build)
    if not folder.is_dir():
        return []
    runs = [storage.read_json(p) for p in sorted(folder.glob("*.json"))]
    return [r for r in runs if r["finished"] > since]


def resolve(project: "Project", cat, ref: str) -> str:
    """A version id from a tag name, a full id or a unique id prefix."""
    from ..errors import UsageError

    if ref in ("HEAD", "current", "@"):
        return current(project)
    row = cat.query("SELECT version FROM tags WHERE name = ?", [ref])
    if row:
        return row[0][0]
    rows = cat.query("SELECT id FROM versions WHERE id LIKE ? ORDER BY created", [ref + "%"])
    if len(rows) == 1:
        return rows[0][0]
    if not rows:
        raise UsageError(f"no version or tag named {ref!r}", "see `proda log` for versions and tags")
    raise UsageError(f"{ref!r} is ambiguous ({len(rows)} versions)", "give more characters of the id")


def load_records(project: "Project", cat, vid: str, stage: str) -> list:
    """All records a version holds for one stage (its shards are immutable objects)."""
    store = storage.Objects(project.build)
    out = []
    for task, entry in sorted(version_manifests(cat, vid).items()):
        if task.split(":")[0] == stage:
            out.extend(store.get(entry["object"]))
    return out


def version_manifests(cat, vid: str) -> dict[str, dict]:
    row = cat.query("SELECT manifests FROM versions WHERE id = ?", [vid])
    return json.loads(row[0][0]) if row else {}


# -- proda log / proda tag -----------------------------------------------------------------


def log(project: "Project") -> dict:
    from .catalog import open_catalog

    if not layout.catalog(project.build).exists():
        return {"versions": []}
    with open_catalog(project, read_only=True) as cat:
        rows = cat.query("SELECT id, CAST(created AS VARCHAR) FROM versions ORDER BY created DESC, id")
        tags = cat.query("SELECT name, version FROM tags ORDER BY name")
    by_version: dict[str, list[str]] = {}
    for name, vid in tags:
        by_version.setdefault(vid, []).append(name)
    return {"versions": [{"id": vid, "created": created, "tags": by_version.get(vid, [])}
                         for vid, created in rows]}


def tag(project: "Project", name: str, ref: str | None = None) -> str:
    from ..errors import UsageError
    from .catalog import open_catalog

    if ref is None:
        vid = record(project)
    with open_catalog(project) as cat:
        if ref is not None:
            vid = resolve(project, cat, ref)
        if not cat.query("SELECT 1 FROM versions WHERE id = ?", [vid]):
            raise UsageError(f"version {vid} is not recorded", "run `proda build` first")
        cat.execute("INSERT OR REPLACE INTO tags (name, version) VALUES (?, ?)", [name, vid])
    return vid
