"""synth (the Builder): L1/L2 -> training Samples, plus the patch files; orthogonality enforced.

Per discipline: sliding windows of relational statements (one document at a time) become
open-ended, multiple-choice and true/false samples (``synth.mix``, 6:3:1) with explanations
(proda/synth/samples.py), memoised per window. The ``patches`` shard reads
``specs/patches/*.jsonl`` (memoised per file). Every sample — synthesized, patch or replay — is
then checked against every benchmark item of both splits (stem and every option, on text reduced to
letters: no shared 13-word run, no whole item text of 8+ words, no prompt equal to a stem;
proda/synth/orthogonality.py) and contaminated ones are dropped and counted, per kind of the rule
(``proda stats``: contaminated; the manifest's ``contaminated_by``). Budgets: every window
(``synth.per_discipline = 0``), or a per-discipline budget, uniform or proportional to the
error rates of the latest diagnosis (``synth.budget = "error"``).
"""

from __future__ import annotations

import functools

from typing import TYPE_CHECKING

from ..records import Concept, Item, Sample, Statement
from ..engine.stage import PATCH_SHARD as PATCHES, Stage

if TYPE_CHECKING:
    from ..project import Project


class Synth(Stage):
    name = "synth"
    version = 2  # 2: the letters-only rule, every option of every item
    sections = ("synth",)

    def shards(self, project: "Project"):
        return project.disciplines() + [PATCHES]

    def file_deps(self, project: "Project", shard):
        from ..engine.outputs import manifest_path
        from ..engine.stage import manifests

        deps = manifests(project, "bench")
        if shard == PATCHES:
            return project.patch_files() + deps
        if project.config.synth.budget == "error":
            deps = deps + project.patch_files()
        return [manifest_path(project.build, "extract", shard)] + deps

    def run(self, ctx):
        from ..synth.orthogonality import contaminated, counts

        samples = self._patches(ctx) if ctx.shard == PATCHES else self._discipline(ctx)
        bad = contaminated(all_items(ctx), samples, ctx.config.synth.ngram)
        ctx.extra["contaminated"] = len(bad)
        ctx.extra["contaminated_by"] = counts(bad)
        return [s for s in samples if s.key not in bad]

    def _discipline(self, ctx):
        from ..synth.samples import allocate_budget, budget_windows, samples_for_window, window_units

        cfg = ctx.config.synth
        records = ctx.upstream("extract")
        statements = [r for r in records if isinstance(r, Statement)]
        concepts = [r for r in records if isinstance(r, Concept)]
        units = window_units(statements, cfg.window)
        if cfg.per_discipline > 0:
            disciplines = ctx.project.disciplines()
            from ..synth.patchfile import latest_error_rates

            rates = latest_error_rates(ctx.project) if cfg.budget == "error" else None
            budget = allocate_budget(disciplines, cfg.per_discipline * len(disciplines), rates,
                                     cfg.budget)[ctx.shard]
            units = budget_windows(units, budget, seed=ctx.shard)
        concept_of: dict[str, list[Concept]] = {}
        at: dict[int, dict[str, list[int]]] = {}  # per concept: statement key -> its places in c.statements
        for c in concepts:
            places = at[id(c)] = {}
            for i, k in enumerate(c.statements):
                places.setdefault(k, []).append(i)
            for k in places:
                concept_of.setdefault(k, []).extend([c] * len(places[k]))

        def payload(window):
            import msgspec

            keys = {s.key for s in window}
            seen, mine = set(), []
            for s in window:
                for c in concept_of.get(s.key, []):
                    if c.key not in seen:  # as the window sees it: parents elsewhere do not matter
                        seen.add(c.key)
                        # c.statements that are in the window, in c's order: found by the window's
                        # keys (a few) instead of a pass over every statement of the concept
                        places = at[id(c)]
                        kept = sorted(i for k in keys if k in places for i in places[k])
                        mine.append(msgspec.structs.replace(c, statements=[c.statements[i] for i in kept]))
            return window, mine

        from ..hashing import digest
        from ..engine.storage import encode_records

        jobs = [(digest([encode_records(w + c)]), (w, c)) for w, c in map(payload, units)]
        return _unique(ctx.map(jobs, functools.partial(window_samples, cfg=cfg, shard=ctx.shard), label="window"))

    def _patches(self, ctx):
        from ..hashing import digest_bytes
        from ..synth.patchfile import read_patch

        files = ctx.project.patch_files()
        jobs = [(digest_bytes(p.name.encode() + b"\0" + p.read_bytes()), p) for p in files]
        return _unique(ctx.map(jobs, patch_samples, label="patch"))


_items: dict[str, list[Item]] = {}  # every benchmark item, for the last set of bench manifests seen


def all_items(ctx) -> list[Item]:
    """Every benchmark item of both splits, in discipline order: read once per set of bench
    manifests and process (the 17 synth shards of a build check against the same items)."""
    from ..engine.outputs import read_manifest
    from ..hashing import digest

    project = ctx.project
    shards = project.disciplines()
    key = digest([(read_manifest(project.build, "bench", d) or {}).get("object") for d in shards])
    items = _items.get(key)
    if items is None:  # (doit's -j threads may race here: each then reads the same items)
        items = [r for d in shards for r in ctx.upstream("bench", d) if isinstance(r, Item)]
        _items.clear()
        _items[key] = items
    return items


def window_samples(unit, *, cfg, shard):
    """A memo unit: the samples of one window of statements with its concepts."""
    from ..synth.samples import samples_for_window

    return samples_for_window(unit[0], unit[1], cfg, shard)


def patch_samples(path):
    """A memo unit: the samples of one patch file."""
    from ..synth.patchfile import read_patch

    return read_patch(path)[1]


def _unique(samples: list[Sample]) -> list[Sample]:
    seen, out = set(), []
    for s in samples:
        if s.key not in seen:
            seen.add(s.key)
            out.append(s)
    return out


STAGE = Synth()
