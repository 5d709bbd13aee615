"""What a build built and reused, per stage and shard — the one definition every command uses.

*Built* counts the records of a stage's output that are new to this build: their key was in none
of the stage's shards before the build started. *Reused* counts the rest of the output, so
``built + reused`` is always what the stage holds now — the number ``proda stats`` shows. A record
the build computed and then dropped (a contaminated sample), a duplicate, or a replay copy of a
sample the build already had is not built. For ``compile`` the records are checkpoints (its
lineage: the base checkpoint and one continued checkpoint per patch). ``proda build``, plain
``doit``, ``proda demo`` and the catalog's ``stage_runs`` all report these numbers.

``from_memo`` is another number: the records the tasks that ran took from their memo journal
instead of computing them — after an interrupted build, how much of its work the next one kept.
``restored``: the built records the tasks did not compute — made earlier and coming back (an edit
undone, a checkpoint already trained for this lineage, results `proda test` scored before the
build's test stage ran).

Cheap when nothing changed: a shard whose output object is the one it had before is all reused,
without reading a record; keys are read (not whole records) only for shards that changed.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from . import layout, storage
from .outputs import read_manifest
from .stage import ORDER, get

if TYPE_CHECKING:
    from ..project import Project


class _Keyed(msgspec.Struct):
    key: str


_keys_decoder = msgspec.msgpack.Decoder(list[_Keyed])


def output_keys(build: Path, manifest: dict[str, Any]) -> list[str]:
    """The keys a shard manifest publishes (compile: its checkpoint lineage)."""
    if manifest["stage"] == "compile":
        return list(manifest.get("extra", {}).get("lineage", []))
    path = storage.Objects(build).path(manifest["object"])
    try:
        return [r.key for r in _keys_decoder.decode(path.read_bytes())]
    except (OSError, msgspec.DecodeError):
        return []


def size(manifest: dict[str, Any] | None) -> int:
    """How many things a shard holds: records, or checkpoints for compile."""
    if manifest is None:
        return 0
    if manifest["stage"] == "compile":
        return len(manifest.get("extra", {}).get("lineage", []))
    return int(manifest["records"])


class Tally:
    """Counts of one build: create it before the build starts, ask it after each shard."""

    def __init__(self, project: "Project", stages: list[str] | None = None):
        self.project = project
        self.build = project.build
        self.started = time.time()
        self.before: dict[str, dict[str, dict[str, Any]]] = {}
        for stage in stages or ORDER:
            folder = layout.stage_dir(self.build, stage)
            found = {}
            if folder.is_dir():
                for path in folder.glob("*.json"):
                    try:
                        found[path.stem] = storage.read_json(path)
                    except (OSError, ValueError):
                        continue
            self.before[stage] = found
        self._old_keys: dict[str, set[str]] = {}
        self._shards: dict[tuple[str, str], dict[str, Any]] = {}

    def _previous_keys(self, stage: str) -> set[str]:
        if stage not in self._old_keys:
            keys: set[str] = set()
            for manifest in self.before.get(stage, {}).values():
                keys.update(output_keys(self.build, manifest))
            self._old_keys[stage] = keys
        return self._old_keys[stage]

    def shard(self, stage: str, shard: str) -> dict[str, Any]:
        """built / reused / seconds / skipped of one shard (seconds: 0 if it did not run)."""
        cached = self._shards.get((stage, shard))
        if cached is not None:
            return cached
        now = read_manifest(self.build, stage, shard)
        old = self.before.get(stage, {}).get(shard)
        total = size(now)
        if now is None:
            built = 0
        elif old is not None and old.get("object") == now["object"] and size(old) == total \
                and old.get("extra", {}).get("lineage") == now.get("extra", {}).get("lineage"):
            built = 0
        else:
            previous = self._previous_keys(stage)
            built = sum(1 for k in output_keys(self.build, now) if k not in previous)
        counts = {"built": built, "reused": total - built, "seconds": 0.0, "skipped": 0, "from_memo": 0,
                  "damaged": 0, "restored": 0}
        run_file = layout.run_stats(self.build, stage, shard)
        run = storage.read_json(run_file) if run_file.exists() else None
        if run and run.get("finished", 0) >= self.started:
            counts["ran"] = True
            counts["seconds"] = round(float(run.get("seconds", 0.0)), 3)
            counts["skipped"] = int(run.get("skipped", 0))
            # the runner counted memo misses and hits; keep those as computed / from_memo (how much
            # of the journal a resumed build used) and store the one definition of built / reused,
            # which the catalog's stage_runs copy from this file
            if "computed" not in run:
                run = {**run, "computed": run.get("built", 0), "from_memo": run.get("reused", 0),
                       "built": built, "reused": total - built}
                storage.write_json(run_file, run)
            counts["from_memo"] = int(run.get("from_memo", 0))
            # built (new to this build's output) but not computed: records an earlier build made
            # that come back (an undone edit, a checkpoint trained before): said, not hidden in "built"
            counts["restored"] = max(0, built - int(run.get("computed", 0)))
            counts["damaged"] = int(run.get("damaged", 0))  # memo entries found damaged, recomputed
        self._shards[(stage, shard)] = counts
        return counts

    def stage(self, stage: str) -> dict[str, Any]:
        totals = {"built": 0, "reused": 0, "seconds": 0.0, "skipped": 0, "from_memo": 0, "damaged": 0, "restored": 0}
        for shard in get(stage).shards(self.project):
            counts = self.shard(stage, shard)
            for key in totals:
                totals[key] += counts[key]
        totals["seconds"] = round(totals["seconds"], 3)
        return totals

    def stages(self, names: list[str]) -> dict[str, dict[str, Any]]:
        return {name: self.stage(name) for name in ORDER if name in names}

    def tasks(self, names: list[str]) -> dict[str, dict[str, Any]]:
        """The ``stage:shard`` tasks that ran in this build, with their counts."""
        out = {}
        for name in ORDER:
            if name in names:
                for shard in get(name).shards(self.project):
                    counts = self.shard(name, shard)
                    if counts.get("ran"):
                        out[f"{name}:{shard}"] = {k: v for k, v in counts.items() if k != "ran"}
        return out
