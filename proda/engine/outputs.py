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
    from .stage import Stage


def manifest_path(build: Path, stage: str, shard: str) -> Path:
    return layout.manifest(build, stage, shard)


_MANIFEST_FIELDS = {"stage": str, "shard": str, "recipe": dict, "object": str, "records": int,
                    "kinds": dict, "extra": dict}


def manifest_problem(data: Any, stage: str, shard: str) -> str | None:
    """None when ``data`` is a manifest of (stage, shard) of the right shape."""
    if not isinstance(data, dict):
        return "not a JSON manifest"
    for key, kind in _MANIFEST_FIELDS.items():
        if not isinstance(data.get(key), kind):
            return f"field {key!r} is missing or not a {kind.__name__}"
    if (data["stage"], data["shard"]) != (stage, shard):
        return f"it is the manifest of {data['stage']}:{data['shard']}, not of {stage}:{shard}"
    if len(data["object"]) != 32 or any(c not in "0123456789abcdef" for c in data["object"]):
        return f"object {data['object']!r} is not an object name"
    if not isinstance(data.get("digest"), str):  # every manifest proda writes has one (since stage versions
        # that changed every id): without it nothing could tell an edited manifest from a good one
        return "field 'digest' is missing: the manifest cannot be checked (edited, or written by an older proda)"
    if data["digest"] != manifest_digest(data):
        return "its content does not match its hash (edited or damaged)"
    return None


def manifest_digest(manifest: dict[str, Any]) -> str:
    """The hash a manifest carries of the rest of its content: what lets ``proda verify`` and every
    read tell an edited or damaged manifest. Taken over its canonical JSON text, which a JSON round
    trip keeps (big integers, a NaN's lost sign: what a manifest holds is what it hashes); "" for a
    value JSON cannot hold, which no manifest written by proda has."""
    import json

    from ..hashing import digest_bytes

    try:
        text = json.dumps({k: v for k, v in manifest.items() if k != "digest"}, sort_keys=True,
                          separators=(",", ":"), ensure_ascii=True)
    except (TypeError, ValueError):
        return ""
    return digest_bytes(text.encode())


def read_manifest(build: Path, stage: str, shard: str) -> dict[str, Any] | None:
    """The manifest of a finished shard, None if it was never built; a damaged one raises
    DamagedError (a build moves it aside and rebuilds it)."""
    path = layout.manifest(build, stage, shard)
    try:
        data = storage.read_json(path)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        _damaged(path, f"unreadable ({exc})")
    problem = manifest_problem(data, stage, shard)
    if problem:
        _damaged(path, problem)
    return data


def _damaged(path: Path, problem: str):
    from ..errors import DamagedError

    parts = Path(path).parts
    shown = "/".join(parts[len(parts) - 1 - parts[::-1].index("build"):]) if "build" in parts else str(path)
    raise DamagedError(f"{shown}: {problem}",
                       "run `proda build`: it moves damaged state aside and rebuilds it")


def load_shard(build: Path, stage: str, shard: str, kinds: tuple[type, ...] | None = None) -> list[Any]:
    """The records of a finished shard (empty if the stage has not run); with ``kinds``, only
    those kinds' records, in shard order (the others are not decoded)."""
    manifest = read_manifest(build, stage, shard)
    if manifest is None:
        return []
    try:
        return storage.Objects(build).get(manifest["object"], kinds)
    except storage.Damaged as exc:
        _damaged(exc.path, exc.problem)


def items(project: "Project") -> list["Item"]:
    """Every benchmark item of the build, both splits, in discipline order."""
    from ..records import Item

    return [r for d in project.disciplines() for r in load_shard(project.build, "bench", d, (Item,))]


def item_counts(project: "Project") -> dict[str, dict[str, int]]:
    """Per discipline, from its bench manifest (no record read): the items kept in each split and
    the candidate items dropped — ``{"dev", "holdout", "dropped"}``, zeros for a shard not built."""
    out = {}
    for d in project.disciplines():
        manifest = read_manifest(project.build, "bench", d) or {}
        splits = (manifest.get("extra") or {}).get("splits") or {}
        out[d] = {"dev": int(splits.get("dev", 0)), "holdout": int(splits.get("holdout", 0)),
                  "dropped": int((manifest.get("kinds") or {}).get("droppeditem", 0))}
    return out


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


def checkpoint_files(folder: Path) -> dict[str, str]:
    """xxh3-128 of every file of a checkpoint folder but ``proda.json``, by relative path."""
    from ..hashing import file_digest

    return {p.relative_to(folder).as_posix(): file_digest(p)
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "proda.json"}


def checkpoint_problem(project: "Project", key: str) -> str | None:
    """None when ``build/checkpoints/<key>/`` is a finished checkpoint whose files hash to what
    compile recorded in its ``proda.json``; else what is wrong with it."""
    folder = checkpoint_dir(project, key)
    if not folder.is_dir():
        return "missing"
    meta = storage.try_read_json(folder / "proda.json")
    if not isinstance(meta, dict) or not isinstance(meta.get("files"), dict):
        return "proda.json is missing or unreadable" if not isinstance(meta, dict) else \
            "proda.json records no file hashes (written by an older proda)"
    if meta.get("key") != key:
        return f"proda.json belongs to checkpoint {meta.get('key')!r}"
    found = checkpoint_files(folder)
    for name, expected in sorted(meta["files"].items()):
        if name not in found:
            return f"{name} is missing"
        if found[name] != expected:
            return f"{name} does not hash to what compile recorded"
    return None


def checkpoint_ready(project: "Project", key: str) -> bool:
    return checkpoint_problem(project, key) is None


def checkpoint_weights(project: "Project", key: str) -> str:
    """The recorded hash of a checkpoint's files (its weights and tokenizer): what results of it
    are keyed by beside its key."""
    meta = storage.try_read_json(checkpoint_dir(project, key) / "proda.json") or {}
    return meta.get("weights", "")


def verified_checkpoint(project: "Project", key: str) -> Path:
    """The folder of checkpoint ``key`` after checking its files against their recorded hashes."""
    problem = checkpoint_problem(project, key)
    if problem is not None:
        from ..errors import DamagedError

        raise DamagedError(f"checkpoint build/checkpoints/{key}: {problem}",
                           "run `proda build`: it moves the damaged checkpoint aside and trains it again")
    return checkpoint_dir(project, key)


def current_checkpoint(project: "Project") -> str | None:
    manifest = read_manifest(project.build, "compile", "all")
    return manifest["extra"].get("checkpoint") if manifest else None


def upstream_digest(project: "Project", stage: "Stage", shard: str, seen: dict | None = None) -> str:
    """A digest of the bytes of the upstream manifests a (stage, shard) reads. Kept with its run
    stats (not in its manifest, which would then change whenever an upstream one does and rerun
    everything below it): a version leaves out a manifest built from other upstream manifests
    than those on disk now (``proda build --until compile`` leaves the last test's results out)."""
    import os

    from ..hashing import digest, file_digest

    seen = {} if seen is None else seen
    parts = []
    for path in stage.upstream(project, shard):
        key = str(path)
        if key not in seen:
            try:
                seen[key] = file_digest(path)
            except OSError:  # a missing upstream manifest: no digest matches it
                seen[key] = ""
        parts.append((os.path.relpath(key, project.build), seen[key]))
    return digest(parts)
