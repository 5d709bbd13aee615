"""Every path under ``build/``, in one place (the derived, deletable half of a project).

::

    build/<stage>/<shard>.json        shard manifests (what doit and downstream stages see)
    build/objects/<hash>.msgpack      immutable record objects, named by content
    build/memo/<stage>/<shard>.log    per-unit memo journals
    build/runs/<stage>.<shard>.json   the last run's counts and timing
    build/recipes/<stage>.json        each stage's resolved recipe (a doit file_dep)
    build/checkpoints/<key>/          compiled checkpoints (and .tmp-/.state- work folders)
    build/proda.duckdb                the catalog: versions, tags, results, training logs
    build/versions/<id>.json          every recorded version (the catalog's history is rebuilt from these)
    build/damaged/                    state that failed its check, moved aside (safe to delete)
    build/.doit.db  .stamp  version.json  .lock
"""

from __future__ import annotations

from pathlib import Path


def manifest(build: Path, stage: str, shard: str) -> Path:
    return build / stage / f"{shard}.json"


def stage_dir(build: Path, stage: str) -> Path:
    return build / stage


def objects(build: Path) -> Path:
    return build / "objects"


def journal(build: Path, stage: str, shard: str) -> Path:
    return build / "memo" / stage / f"{shard}.log"


def run_stats(build: Path, stage: str, shard: str) -> Path:
    return build / "runs" / f"{stage}.{shard}.json"


def runs(build: Path) -> Path:
    return build / "runs"


def recipes(build: Path) -> Path:
    return build / "recipes"


def recipe(build: Path, stage: str) -> Path:
    return recipes(build) / f"{stage}.json"


def checkpoints(build: Path) -> Path:
    return build / "checkpoints"


def checkpoint(build: Path, key: str) -> Path:
    return checkpoints(build) / key


def catalog(build: Path) -> Path:
    return build / "proda.duckdb"


def doit_db(build: Path) -> Path:
    return build / ".doit.db"


def stamp(build: Path) -> Path:
    return build / ".stamp"


def version_marker(build: Path) -> Path:
    return build / "version.json"


def lock(build: Path) -> Path:
    return build / ".lock"


def versions(build: Path) -> Path:
    return build / "versions"


def damaged(build: Path) -> Path:
    return build / "damaged"
