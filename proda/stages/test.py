"""test: score every benchmark Item against the current checkpoint -> Results per (checkpoint, item).

Multiple-choice log-likelihood of each option given the stem (``test.scorer``: loglik with
transformers, or vllm prompt logprobs). Results live in the catalog keyed by (checkpoint, item),
so an item is never scored twice against the same checkpoint; this shard holds the Results of the
current checkpoint and its accuracy per split and discipline. ``proda test`` adds selections
(``--failed``, ``--split``, ``--discipline``) on top of the same function.
"""

from __future__ import annotations

from ..records import Item
from . import Stage


class Test(Stage):
    name = "test"
    version = 1
    sections = ("test",)

    def shards(self, project):
        return ["all"]

    def file_deps(self, project, shard):
        from ..engine import manifest_path
        from . import manifests

        return [manifest_path(project.build, "compile", "all")] + manifests(project, "bench")

    def params(self, project):
        params = super().params(project)
        params["test"].pop("batch_size", None)  # does not change results
        return params

    def run(self, ctx):
        from ..catalog import open_catalog
        from ..evaluate import accuracy, results_for
        from .compile import current_checkpoint

        checkpoint = current_checkpoint(ctx.project)
        items = all_items(ctx.project)
        with open_catalog(ctx.project) as cat:
            results, ran, reused = results_for(ctx.project, cat, checkpoint, items)
        ctx.counts.built += ran
        ctx.counts.reused += reused
        ctx.extra["checkpoint"] = checkpoint
        ctx.extra["accuracy"] = accuracy(items, results)
        return results


def all_items(project) -> list[Item]:
    from ..engine import load_shard

    return [r for d in project.disciplines() for r in load_shard(project.build, "bench", d)
            if isinstance(r, Item)]


STAGE = Test()
