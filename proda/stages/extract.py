"""extract: Chunks -> L3 chains -> L2 statements -> L1 concepts, top-down, per discipline.

L3 chains are memoised per chunk, L2 statements per chain, so editing one document re-extracts
only its chunks; L1 canonicalisation runs over the whole discipline (cheap, deterministic) and
counts as built only the concepts whose content changed. The reachability invariant is checked
here and the orphan count goes into the manifest (``proda stats`` shows it; it must be 0).
Backends: ``heuristic`` (offline default) or an LLM (``llm.backend``: openai, vllm,
transformers) through the call cache in the catalog. Run alone: ``proda build --until extract``.
Example project: chains only where sentences are inferentially linked (``extract/discourse.py``), typed
statements only (no ``related_to`` guesses), definitions only from definitional text.
"""

from __future__ import annotations

import functools

from typing import TYPE_CHECKING

from ..records import Chunk, Concept
from ..engine.stage import Stage

if TYPE_CHECKING:
    from ..project import Project

_OUTPUT_PARAMS = ("backend", "model", "temperature", "max_tokens")  # what changes LLM output


class Extract(Stage):
    name = "extract"
    version = 4  # bump when the heuristic extractor's output for the same input changes
    sections = ("extract",)

    def file_deps(self, project: "Project", shard):
        from ..engine.outputs import manifest_path

        return [manifest_path(project.build, "chunk", shard)]

    def params(self, project: "Project"):
        params = super().params(project)
        llm = project.config.llm
        params["llm"] = {k: getattr(llm, k) for k in _OUTPUT_PARAMS} if llm.backend != "heuristic" \
            else {"backend": "heuristic"}
        return params

    def fingerprint(self, project: "Project"):
        llm = project.config.llm
        if llm.backend == "heuristic":
            return "heuristic"  # its output semantics are versioned by Extract.version
        from ..extract.backends import llm_fingerprint

        return llm_fingerprint(llm)

    def cpu_bound(self, project: "Project") -> bool:
        return project.config.llm.backend == "heuristic"  # an LLM's calls go through the catalog's cache

    def run(self, ctx):
        from ..extract import graph
        from ..extract.backends import open_extractor

        cfg = ctx.config.extract
        chunks = [c for c in ctx.upstream("chunk") if isinstance(c, Chunk)]
        with open_extractor(ctx.project) as (extractor, concurrency, bad_reply):
            # bound methods with the config bound: the heuristic extractor pickles, so its units can
            # run on other processes; LLM extractors run on `concurrency` threads here
            chains = ctx.map(((c.key, c) for c in chunks), functools.partial(extractor.chains, cfg=cfg),
                             label="L3", concurrency=concurrency, skip=bad_reply)
            statements = ctx.map(((c.key, c) for c in chains), functools.partial(extractor.statements, cfg=cfg),
                                 label="L2", concurrency=concurrency, skip=bad_reply)
            concepts = extractor.concepts(ctx.shard, statements)
            for name, why in sorted(getattr(extractor, "undefined", ())):  # LLM definitions that failed
                ctx.skipped.append({"unit": f"L1:{name}", "reason": why})
        previous = [r for r in ctx.upstream("extract") if isinstance(r, Concept)]
        ctx.count_derived(concepts, previous)
        ctx.extra["orphans"] = graph.orphans(chains, statements, concepts)
        return chains + statements + concepts


STAGE = Extract()
