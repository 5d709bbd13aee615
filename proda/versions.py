"""Build versions: a version id is derived from content only — the hash of every stage
manifest's recipe and output object — so an incremental and a clean build of the same specs
have the same id. ``record`` stores it in the catalog (once) with its manifests and stage runs.
"""

from __future__ import annotations

import json
import time

from . import stages, storage
from .hashing import digest


def manifests(project) -> dict[str, dict]:
    found = {}
    for name in stages.ORDER:
        folder = project.build / name
        if folder.is_dir():
            for path in sorted(folder.glob("*.json")):
                found[f"{name}:{path.stem}"] = storage.read_json(path)
    return found


def version_id(found: dict[str, dict]) -> str:
    return digest(sorted((task, m["object"], digest(m["recipe"]), digest(m.get("extra", {})))
                         for task, m in found.items()))[:16]


def current(project) -> str:
    return version_id(manifests(project))


def record(project) -> str:
    found = manifests(project)
    vid = version_id(found)
    marker = project.build / "version.json"
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


def _new_runs(project, since: float) -> list[dict]:
    folder = project.build / "runs"
    if not folder.is_dir():
        return []
    runs = [storage.read_json(p) for p in sorted(folder.glob("*.json"))]
    return [r for r in runs if r["finished"] > since]


def resolve(project, cat, ref: str) -> str:
    """A version id from a tag name, a full id or a unique id prefix."""
    from .errors import UsageError

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


def load_records(project, cat, vid: str, stage: str) -> list:
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
