"""Running one stage on one shard: per-item memo, atomic output, manifest written last.

A stage is a function of its inputs. The engine gives it a :class:`Context` whose ``map`` runs a
function over *units* (one input record or group each, with an input key) and memoises each unit's
output records under the recipe key

    xxh3-128(stage name, stage version, resolved params, backend fingerprint, unit label, input key)

in an append-only journal, so an edit recomputes only the units whose inputs changed, and a killed
build loses only the units in flight. When the stage returns, its records go to an immutable
object and the shard manifest is written last; the manifest is what doit and downstream stages see.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

import msgspec

from . import layout, progress, storage
from .outputs import load_shard, manifest_digest, upstream_digest
from ..hashing import digest
from ..records import INTERNAL, Record

if TYPE_CHECKING:
    from ..project import Project
    from .stage import Stage


@dataclass
class Counts:
    built: int = 0
    reused: int = 0


@dataclass
class Context:
    project: "Project"
    stage: "Stage"
    shard: str
    recipe_data: dict[str, Any]  # the resolved recipe: version, params, backend fingerprint
    counts: Counts = field(default_factory=Counts)
    extra: dict[str, Any] = field(default_factory=dict)  # deterministic facts for the manifest
    skipped: list[dict[str, str]] = field(default_factory=list)  # units left out, and why

    def __post_init__(self) -> None:
        self.recipe = digest(self.recipe_data)
        self.journal = storage.Journal(layout.journal(self.project.build, self.stage.name, self.shard))
        self.memo = self.journal.load()
        self.live: dict[str, bytes] = {}

    @property
    def config(self):
        return self.project.config

    def upstream(self, stage: str, shard: str | None = None, kinds: tuple[type, ...] | None = None) -> list[Any]:
        """An upstream shard's records (this stage's shard by default); only ``kinds`` if given."""
        return load_shard(self.project.build, stage, shard or self.shard, kinds)

    def _lookup(self, label: str, input_key: str) -> tuple[str, list[Any] | None]:
        recipe = digest([self.recipe, label, input_key])
        payload = self.memo.get(recipe)
        if payload is None:
            return recipe, None
        try:
            records = storage.decode_records(payload)
        except msgspec.DecodeError:  # checksummed, yet not records of this version: recompute
            self.journal.damaged += 1
            return recipe, None
        self.live[recipe] = payload
        return recipe, records

    def _store(self, entries: list[tuple[str, list[Record], bytes | None]]) -> None:
        """Journal a batch of units' (recipe, records, encoded records or None) in one write."""
        frames = []
        for recipe, records, payload in entries:
            payload = storage.encode_records(records) if payload is None else payload
            frames.append((recipe, payload))
            self.live[recipe] = payload
            self.memo[recipe] = payload
            self.counts.built += _published(records)
        if frames:
            self.journal.append_many(frames)

    def map(
        self,
        units: Iterable[tuple[str, Any]],
        fn: Callable[[Any], list[Record]],
        label: str = "",
        concurrency: int = 1,
        skip: tuple[type[BaseException], ...] = (),
    ) -> list[Any]:
        """Run ``fn`` over (input_key, payload) units, reusing memoised outputs; returns all output
        records, in unit order.

        Units that are not memoised go to the project's executor (proda/engine/executors.py: this
        process, worker processes or Ray); ``concurrency`` > 1 runs them on that many threads here
        instead (HTTP-bound work). Units' records are journalled as their batch arrives (one
        journal write per batch; in this process, the units finished every 0.05 s). A unit
        raising one of ``skip`` (a bad item, e.g. an LLM reply still malformed after its repair
        round) is left out with its reason instead of failing the stage; it is not memoised, so
        the next build retries it (the shard stays stale until none is skipped)."""
        from . import executors

        units = list(units)
        results: list[list[Any] | None] = [None] * len(units)
        todo: list[tuple[int, str, Any]] = []
        for index, (input_key, payload) in enumerate(units):
            recipe, cached = self._lookup(label, input_key)
            if cached is None:
                todo.append((index, recipe, payload))
            else:
                self.counts.reused += _published(cached)
                results[index] = cached

        executor = executors.choose(self.config.run, fn, len(todo), concurrency)
        payloads = [payload for _, _, payload in todo]
        with progress.units(f"{self.stage.name}:{self.shard} {label}".strip(), len(todo)) as advance:
            for batch in executor.run_batches(fn, payloads, skip, threads=concurrency):
                done = []
                for position, kind, records, value in batch:
                    index, recipe, _ = todo[position]
                    if kind == executors.SKIP:
                        self.skipped.append({"unit": f"{label}:{units[index][0][:12]}", "reason": value})
                        results[index] = []
                    else:
                        if records is None:  # from another process: encoded there
                            records = storage.decode_records(value)
                        done.append((recipe, records, value))
                        results[index] = records
                self._store(done)  # the batch's units, journalled in one write
                advance(len(batch))
        lost = [units[index][0][:12] for index, _, _ in todo if results[index] is None]
        if lost:  # never publish a shard short of units: what came back is journalled, rerun
            from ..errors import StageError

            raise StageError(f"{self.stage.name}:{self.shard}: {len(lost)} unit(s) came back from no worker "
                             f"(first: {label}:{lost[0]})", "run the build again: the units that came back are kept")
        return [record for group in results if group is not None for record in group]

    def count_derived(self, records: Sequence[Record], previous: Sequence[Record]) -> None:
        """Count records computed outside ``map`` (a reduce step): new content is built."""
        before = {storage.encode_records([r]) for r in previous}
        for record in records:
            if storage.encode_records([record]) in before:
                self.counts.reused += 1
            else:
                self.counts.built += 1

    def close(self) -> None:
        self.journal.close()
        dead = len(self.memo) - len(self.live)
        if dead > len(self.live) + 64:
            self.journal.rewrite(self.live)
        if self.journal.damaged:
            from .integrity import rel, say

            n = self.journal.damaged
            say(f"warning: {rel(self.project, self.journal.path)}: {n} memo entr{'y' if n == 1 else 'ies'} "
                f"failed {'its' if n == 1 else 'their'} checksum; dropped and recomputed")


def _published(records: Sequence[Record]) -> int:
    """How many of a unit's records a stage publishes (its internal kinds are not counted)."""
    return sum(1 for r in records if not isinstance(r, INTERNAL))


def recipe_of(stage: "Stage", project: "Project") -> dict[str, Any]:
    """The recipe identity of a stage: version, resolved params, backend fingerprint."""
    return {
        "stage": stage.name,
        "version": stage.version,
        "params": stage.params(project),
        "backend": stage.fingerprint(project),
    }


def execute(project: "Project", stage: "Stage", shard: str) -> dict[str, Any]:
    """Run one (stage, shard) and publish its output; returns its run stats."""
    from . import executors

    started = time.perf_counter()
    recipe = recipe_of(stage, project)
    inputs = upstream_digest(project, stage, shard)  # the upstream this run reads: final, they ran first
    ctx = Context(project, stage, shard, recipe)
    try:
        records = stage.run(ctx)
    finally:
        ctx.close()
    if ctx.skipped:
        ctx.extra["skipped"] = sorted(ctx.skipped, key=lambda s: s["unit"])
        from .damage import say  # the real stderr: doit captures what its actions print

        for entry in ctx.extra["skipped"]:
            say(f"  skipped  {stage.name}:{shard} {entry['unit']}: {entry['reason']}")
    manifest = publish(project, stage.name, shard, records, recipe, ctx.extra)
    stats = {
        "stage": stage.name,
        "shard": shard,
        "built": ctx.counts.built,
        "reused": ctx.counts.reused,
        "records": len(records),
        "seconds": round(time.perf_counter() - started, 4),
        "skipped": len(ctx.skipped),
        "damaged": ctx.journal.damaged,  # memo frames that failed their checksum, recomputed
        "finished": time.time(),
        "inputs": inputs,  # for the manifest below only (a version checks it: versions.manifests)
        "manifest": manifest["digest"],
        "on_worker": executors.ON_WORKER,  # the whole task ran on a worker process (-j N)
        "process": os.getpid(),
    }
    storage.write_json(layout.run_stats(project.build, stage.name, shard), stats)
    return stats


_worker_projects: dict[tuple[str, tuple[str, ...]], "Project"] = {}


def execute_on_worker(root: str, overrides: tuple[str, ...], stage: str, shard: str, driver: int,
                      recipe: str) -> dict[str, Any]:
    """Run one (stage, shard) whole on a worker process of the build (``proda build -j N`` with
    worker processes; the stage is :meth:`~proda.engine.stage.Stage.cpu_bound`): the memo journal,
    the object and the manifest written last, as :func:`execute` writes them in the build process —
    one writer per shard all the same, since doit gives a shard to one task at a time. Its units
    run here, one after another. ``driver`` is the build's process id: a task that reaches a worker
    after the build has died is not started. ``recipe``: the digest of the stage's recipe as the
    build read the settings; the worker read them itself, and refuses a task whose recipe differs
    (the settings were edited while the build ran). An error that could not be rebuilt on the
    other side of the pool comes back as a StageError with its text."""
    import pickle

    from ..errors import StageError
    from . import executors
    from .stage import get

    if executors.gone(driver):
        raise StageError(f"{stage}:{shard}: the build that sent this task has ended")
    project = worker_project(root, overrides)
    step = get(stage)
    if digest(recipe_of(step, project)) != recipe:
        raise StageError(f"{stage}:{shard}: the settings changed while the build ran (specs/proda.toml or a file it names)",
                         "run `proda build` again: it reads them afresh (finished units are kept)")
    try:
        return execute(project, step, shard)
    except Exception as exc:  # noqa: BLE001 — only its portability is checked here
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:  # noqa: BLE001 — the pool would call this a broken pool, and run it again
            import traceback

            raise StageError(f"{stage}:{shard} failed on a worker process: {type(exc).__name__}: {exc}",
                             "the traceback on the worker:\n" + traceback.format_exc()) from None
        raise


def worker_project(root: str, overrides: tuple[str, ...]) -> "Project":
    """The project a worker process runs whole tasks of, its settings read once per worker (a build
    with tasks on workers has each worker read them while doit plans: ``executors.prewarm``)."""
    key = (root, tuple(overrides))
    project = _worker_projects.get(key)
    if project is None:
        from ..project import Project

        project = _worker_projects[key] = Project.at(root, overrides)
        project.config  # noqa: B018 — read now
    return project


def publish(project: "Project", stage: str, shard: str, records: list[Record],
            recipe: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    kinds: dict[str, int] = {}
    for record in records:
        kind = type(record).__name__.lower()
        kinds[kind] = kinds.get(kind, 0) + 1
    manifest = {
        "stage": stage,
        "shard": shard,
        "recipe": recipe,
        "object": storage.Objects(project.build).put(records),
        "records": len(records),
        "kinds": kinds,
        "extra": extra or {},
    }
    manifest["digest"] = manifest_digest(manifest)  # verify and every read check it
    storage.write_json(layout.manifest(project.build, stage, shard), manifest)  # last
    return manifest
