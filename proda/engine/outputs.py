"""Typed readers of a finished build: manifests, shards, items, samples, knowledge, checkpoints.

Everything that reads ``build/`` after a stage has published goes through here, so "every item of
the build" or "the current checkpoint" is written once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import layout, storage

if TYPE_CHECKING:
    from ..project import Project
    from ..records import Chain, Concept, Item, Sample, Statement


def manifest_path(build: Path, stage: str, shard: str) -> Path:
    return layout.manifest(build, stage, shard)


def read_manifest(build: Path, stage: str, shard: str) -> dict[str, Any] | None:
    path = layout.manifest(build, stage, shard)
    return storage.read_json(path) if path.exists() else None


def load_shard(build: Path, stage: str, shard: str) -> list[Any]:
    """The records of a finished shard (empty if the stage has not run)."""
    manifest = read_manifest(build, stage, shard)
    if manifest is None:
        return []
    return storage.Objects(build).get(manifest["object"])


def items(project: "Project") -> list["Item"]:
    """Every benchmark item of the build, both splits, in discipline order."""
    from ..records import Item

    return [r for d in project.disciplines() for r in load_shard(project.build, "bench", d)
            if isinstance(r, Item)]


def samples(project: "Project", patches: bool = True) -> list["Sample"]:
    """Every training sample of the build (the debugger's patch shard too, unless ``patches=False``)."""
    from ..records import Sample
    from .stage import PATCH_SHARD, get

    shards = [s for s in get("synth").shards(project) if patches or s != PATCH_SHARD]
    return [r for s in shards for r in load_shard(project.build, "synth", s) if isinstance(r, Sample)]


@dataclass
class Knowledge:
    """The extracted knowledge of a build, by key."""

    chains: dict[str, "Chain"]
    statements: dict[str, "Statement"]
    concepts: dict[str, "Concept"]


def knowledge(project: "Project") -> Knowledge:
    from ..records import Chain, Concept, Statement

    out = Knowledge({}, {}, {})
    for d in project.disciplines():
        for r in load_shard(project.build, "extract", d):
            if isinstance(r, Chain):
                out.chains[r.key] = r
            elif isinstance(r, Statement):
                out.statements[r.key] = r
            elif isinstance(r, Concept):
                out.concepts[r.key] = r
    return out


def checkpoint_dir(project: "Project", key: str) -> Path:
    return layout.checkpoint(project.build, key)


def checkpoint_ready(project: "Project", key: str) -> bool:
    return (checkpoint_dir(project, key) / "proda.json").exists()


def current_checkpoint(project: "Project") -> str | None:
    manifest = read_manifest(project.build, "compile", "all")
    return manifest["extra"].get("checkpoint") if manifest else None
