"""synth (the Builder): L1/L2 -> training Samples, plus the patch files; orthogonality enforced.

Per discipline: sliding windows of relational statements (one document at a time) become
open-ended, multiple-choice and true/false samples (``synth.mix``, 6:3:1) with explanations
(proda/synth/samples.py), memoised per document (its windows). The ``patches`` shard reads
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

    def cpu_bound(self, project: "Project") -> bool:
        return True

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
        from ..synth.samples import ConceptIndex, allocate_budget, budget_windows, by_document, window_units

        cfg = ctx.config.synth
        records = ctx.upstream("extract", kinds=(Statement, Concept))  # not its chains
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
        index = ConceptIndex(concepts)
        from ..hashing import digest
        from ..engine.storage import encode_records

        # one unit per document: its windows, with the concepts as its statements see them (in the
        # concepts' own order, so each window's view on the worker is the one it had alone)
        jobs = []
        for windows in by_document(units):
            mine = index.view([s for w in windows for s in w], in_order=True)
            jobs.append((digest([encode_records(w) for w in windows] + [encode_records(mine)]), (windows, mine)))
        return _unique(ctx.map(jobs, functools.partial(document_samples, cfg=cfg, shard=ctx.shard),
                               label="document"))

    def _patches(self, ctx):
        from ..hashing import digest_bytes
        from ..synth.patchfile import patch_bytes

        # each unit carries its file's bytes, read once here: the key is made of them, and a worker
        # (another machine's, with Ray) parses them without reading specs/ itself
        files = [(p, patch_bytes(p)) for p in ctx.project.patch_files()]
        jobs = [(digest_bytes(p.name.encode() + b"\0" + raw), (str(p), raw)) for p, raw in files]
        samples = _unique(ctx.map(jobs, patch_samples, label="patch"))
        _note_unknown_disciplines(ctx.project, samples)
        return samples


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
        items = [r for d in shards for r in ctx.upstream("bench", d, kinds=(Item,))]  # not the dropped ones
        _items.clear()
        _items[key] = items
    return items


def document_samples(unit, *, cfg, shard):
    """A memo unit: the samples of one document's windows, each window with its concepts as it
    sees them (an edit of a document recomputes that document's windows only)."""
    from ..synth.samples import ConceptIndex, samples_for_window

    windows, concepts = unit
    index = ConceptIndex(concepts)
    return [sample for window in windows for sample in samples_for_window(window, index.view(window), cfg, shard)]


def patch_samples(unit):
    """A memo unit: the samples of one patch file, (its path, its bytes)."""
    from ..synth.patchfile import read_patch

    path, raw = unit
    return read_patch(path, raw)[1]


def _note_unknown_disciplines(project, samples: list[Sample]) -> None:
    """A patch sample's discipline that specs/corpus/ does not have (a typo, or a discipline removed
    since): it still trains, but its budget and reports cannot place it — said, not fatal."""
    import difflib

    from ..engine.damage import say

    known = set(project.disciplines())
    unknown: dict[tuple[str, str], int] = {}
    for s in samples:
        if s.discipline and s.discipline not in known:
            unknown[(s.source, s.discipline)] = unknown.get((s.source, s.discipline), 0) + 1
    for (source, discipline), n in sorted(unknown.items()):
        close = difflib.get_close_matches(discipline, sorted(known), n=1)
        say(f"  note: specs/patches/{source}: {n} sample(s) for discipline {discipline!r}, which "
            f"specs/corpus/ does not have" + (f" (did you mean {close[0]!r}?)" if close else ""))


def _unique(samples: list[Sample]) -> list[Sample]:
    seen, out = set(), []
    for s in samples:
        if s.key not in seen:
            seen.add(s.key)
            out.append(s)
    return out


STAGE = Synth()
