"""Build versions: a version id is derived from content only — the hash of every stage
manifest's recipe and output object — so an incremental and a clean build of the same specs
have the same id. ``record`` stores it in the catalog (once) with its manifests and stage runs;
``log`` and ``tag`` are ``proda log`` and ``proda tag``.
"""

from __future__ import annotations

import re

from typing import TYPE_CHECKING

import json
import time

from . import layout, stage as stages, storage
from ..hashing import digest

if TYPE_CHECKING:
    from ..project import Project


def manifests(project: "Project") -> dict[str, dict]:
    """The manifest of every shard the specs define now (a shard that left the specs — a removed
    discipline — is not part of the build, whatever is still on disk), and only of shards built
    from the upstream manifests on disk now: after ``proda build --until compile``, the test
    results of the previous checkpoint are not this version's (nor is anything built on a shard
    left out). A shard whose run stats do not say what it read (built before they did) is kept."""
    from .outputs import read_manifest, upstream_digest

    found: dict[str, dict] = {}
    left_out: set[str] = set()  # manifest paths of shards left out
    seen: dict[str, str] = {}  # manifest path -> digest of its bytes, read once
    for name in stages.ORDER:
        stage = stages.get(name)
        for shard in stage.shards(project):
            manifest = read_manifest(project.build, name, shard)
            if manifest is None:
                continue
            if name != stages.ORDER[0]:
                stats = storage.try_read_json(layout.run_stats(project.build, name, shard))
                mine = isinstance(stats, dict) and (stats.get("stage"), stats.get("shard"), stats.get("manifest")) \
                    == (name, shard, manifest.get("digest"))  # the stats of this very manifest (else: unknown)
                read = stats.get("inputs") if mine else None
                ups = stage.upstream(project, shard)
                if any(str(p) in left_out for p in ups) or (read and read != upstream_digest(project, stage, shard, seen)):
                    left_out.add(str(layout.manifest(project.build, name, shard)))
                    continue
            found[f"{name}:{shard}"] = manifest
    return found


def version_id(found: dict[str, dict]) -> str:
    return digest(sorted((task, m["object"], digest(m["recipe"]), digest(m.get("extra", {})))
                         for task, m in found.items()))[:16]


def current(project: "Project") -> str:
    return version_id(manifests(project))


def record(project: "Project") -> str:
    """Record the current version: its file ``build/versions/<id>.json`` (the history the catalog
    is rebuilt from when it is lost) and its row in the catalog, with the stage runs since."""
    found = manifests(project)
    if not found:  # nothing built (an empty corpus up to chunk): no version, not the empty one's id
        return ""
    vid = version_id(found)
    marker = layout.version_marker(project.build)
    last = storage.try_read_json(marker)
    last = last if isinstance(last, dict) else {}
    runs = _new_runs(project, last.get("recorded", 0.0))
    entry = write_version_file(project, vid, found)
    if last.get("id") == vid and not runs:
        return vid
    from .catalog import open_catalog

    with open_catalog(project) as cat:
        cat.execute("INSERT OR IGNORE INTO versions (id, created, manifests, counts) VALUES (?, ?, ?, ?)",
                    [vid, entry["created"], json.dumps(entry["manifests"], sort_keys=True),
                     json.dumps(entry["counts"], sort_keys=True)])
        for run in runs:
            cat.execute("INSERT INTO stage_runs VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [vid, run["stage"], run["shard"], run["built"], run["reused"],
                         run["seconds"], run["finished"]])
    storage.write_json(marker, {"id": vid, "recorded": time.time()})
    return vid


def write_version_file(project: "Project", vid: str, found: dict[str, dict]) -> dict:
    """``build/versions/<id>.json``: what the catalog's ``versions`` row holds (written once)."""
    path = layout.versions(project.build) / f"{vid}.json"
    entry = storage.try_read_json(path)
    if isinstance(entry, dict) and entry.get("id") == vid and isinstance(entry.get("manifests"), dict):
        return entry
    counts: dict[str, int] = {}
    for m in found.values():
        for kind, n in m["kinds"].items():
            counts[kind] = counts.get(kind, 0) + n
    entry = {"id": vid, "created": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
             "manifests": {t: {"object": m["object"], "extra": m.get("extra", {})} for t, m in found.items()},
             "counts": counts}
    storage.write_json(path, entry)
    return entry


def record_if_idle(project: "Project") -> str:
    """``record`` for commands that only read: skipped while a build runs (it records its own
    version when it finishes, and reading must not wait for it)."""
    from .lock import held_elsewhere

    if held_elsewhere(project.build):
        return current(project)
    return record(project)


def _new_runs(project: "Project", since: float) -> list[dict]:
    folder = layout.runs(project.build)
    if not folder.is_dir():
        return []
    keys = ("stage", "shard", "built", "reused", "seconds", "finished")
    runs = [storage.try_read_json(p) for p in sorted(folder.glob("*.json"))]
    return [r for r in runs if isinstance(r, dict) and all(k in r for k in keys) and r["finished"] > since]


def resolve(project: "Project", cat, ref: str) -> str:
    """A version id from a tag name, a full id or a unique id prefix."""
    from ..errors import UsageError

    if ref in ("HEAD", "current", "@"):
        vid = current(project)
        if not cat.query("SELECT 1 FROM versions WHERE id = ?", [vid]):
            from .lock import held_elsewhere

            if held_elsewhere(project.build):
                raise UsageError("HEAD is being built right now (a build is running)",
                                 "compare tagged versions, or wait for the build to finish")
        return vid
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
            try:
                out.extend(store.get(entry["object"]))
            except storage.Damaged as exc:
                from ..errors import DamagedError

                hint = ("run `proda build` to rebuild it" if vid == current(project) else
                        "that version's records are lost; rebuild it from its specs to compare it")
                raise DamagedError(f"version {vid}, {task}: {exc}", hint) from None
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


_TAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_RESERVED = ("HEAD", "current", "@")


def tag_problem(name: str) -> str | None:
    """Why ``name`` cannot be a tag (None when it can): a tag is a word that ``proda log`` prints
    and ``diff``/``show`` resolve, so it may not hold spaces or slashes, nor read as a version id
    or one of the names for the current version."""
    if not _TAG.fullmatch(name):
        return "a tag is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
    if name in _RESERVED:
        return f"{name!r} already names the current version"
    if re.fullmatch(r"[0-9a-f]{4,16}", name):
        return "it reads as a version id (prefix): `diff` and `show` would take it for one"
    return None


def tag(project: "Project", name: str, ref: str | None = None) -> str:
    from ..errors import UsageError
    from .catalog import open_catalog

    problem = tag_problem(name)
    if problem:
        raise UsageError(f"cannot tag {name!r}: {problem}", "choose a name such as v2 or before-patch")

    if ref is None:
        vid = record(project)
        if not vid:
            raise UsageError("nothing is built yet: there is no version to tag", "run `proda build` first")
    with open_catalog(project) as cat:
        if ref is not None:
            vid = resolve(project, cat, ref)
        if not cat.query("SELECT 1 FROM versions WHERE id = ?", [vid]):
            cat.restore()  # the catalog may have lost it; build/versions/ keeps every version
        if not cat.query("SELECT 1 FROM versions WHERE id = ?", [vid]):
            raise UsageError(f"version {vid} is not recorded", "run `proda build` first")
        was = cat.query("SELECT version FROM tags WHERE name = ?", [name])
        if was and was[0][0] != vid:  # a tag moves like `git tag -f`: say so, the old id stays in the log
            import sys

            print(f"note: tag {name} moved from {was[0][0]} to {vid}", file=sys.stderr)
        cat.execute("INSERT OR REPLACE INTO tags (name, version) VALUES (?, ?)", [name, vid])
        tags = dict(cat.query("SELECT name, version FROM tags"))
    storage.write_json(layout.versions(project.build) / "tags.json", tags)
    return vid
