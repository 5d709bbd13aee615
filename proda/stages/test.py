"""test: score every benchmark Item against the current checkpoint -> Results per (checkpoint, item).

Multiple-choice log-likelihood of each option given the stem (``test.scorer``: loglik with
transformers, or vllm prompt logprobs), and of each option alone (lm-eval's unconditional request):
the manifest's ``question`` says how much accuracy the question adds (an item the model answers as
well without its question tests fluency, not knowledge). Results live in the catalog keyed by (checkpoint, item),
so an item is never scored twice against the same checkpoint; this shard holds the Results of the
current checkpoint and its accuracy per split and discipline, and — when ``test.suites`` names
regression suites — the checkpoint's lm-eval scores on them (proda/score/suites.py, kept per
checkpoint in the catalog and in this shard's manifest). ``proda test`` adds selections
(``--failed``, ``--split``, ``--discipline``) on top of the same function.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..engine.stage import Stage

if TYPE_CHECKING:
    from ..project import Project


class Test(Stage):
    name = "test"
    version = 2  # 2: results carry the options' scores without the stem
    sections = ("test",)

    def shards(self, project: "Project"):
        return ["all"]

    def file_deps(self, project: "Project", shard):
        from ..engine.outputs import manifest_path
        from ..engine.stage import manifests

        return [manifest_path(project.build, "compile", "all")] + manifests(project, "bench")

    def params(self, project: "Project"):
        params = super().params(project)
        params["test"].pop("batch_size", None)  # does not change results
        return params

    def run(self, ctx):
        from ..engine.catalog import open_catalog
        from ..score.results import accuracy, question, results_for
        from ..engine.outputs import current_checkpoint, items as all_items

        checkpoint = current_checkpoint(ctx.project)
        items = all_items(ctx.project)
        with open_catalog(ctx.project) as cat:
            results, ran, reused = results_for(ctx.project, cat, checkpoint, items)
            if ctx.config.test.suites:
                from ..score.suites import score_suites

                ctx.extra["suites"] = score_suites(ctx.project, cat, checkpoint)
        ctx.counts.built += ran
        ctx.counts.reused += reused
        ctx.extra["checkpoint"] = checkpoint
        ctx.extra["accuracy"] = accuracy(items, results)
        ctx.extra["question"] = question(items, results)
        return results


STAGE = Test()
