"""compile (the compiler): training Samples -> a checkpoint (the binary), HF save_pretrained layout.

The base checkpoint is trained on the synthesized samples; with ``compile.continued`` (default)
each patch file then yields a continued checkpoint trained from its parent on that patch's
samples and replay — so a clean build and an incremental one walk the same lineage and produce
the same keys. Key = hash(trainer + version, base model identity and weights, corpus key,
training-set keys, hyper-parameters, seed). A checkpoint folder ``build/checkpoints/<key>/`` is
published by rename with ``proda.json`` inside, so a half-trained one is never visible; a killed
training resumes from its last saved step (``compile.save_every``). Loss and learning rate per
step go to the catalog (``train_log``). Example project, tiny trainer: about a minute on 2 cores.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pathlib import Path

from ..engine.outputs import checkpoint_dir, checkpoint_problem, checkpoint_weights
from ..engine.stage import PATCH_SHARD as PATCHES, Stage
from ..hashing import digest
from ..records import Chunk, Sample

if TYPE_CHECKING:
    from ..project import Project

_NOT_SEMANTIC = ("save_every",)
_PATCH_ONLY = ("continued", "patch_epochs", "patch_learning_rate")


class Compile(Stage):
    name = "compile"
    version = 1
    sections = ("compile",)

    def shards(self, project: "Project"):
        return ["all"]

    def file_deps(self, project: "Project", shard):
        from ..engine.stage import manifests

        return manifests(project, "synth") + manifests(project, "chunk")

    def params(self, project: "Project"):
        params = super().params(project)
        for key in _NOT_SEMANTIC:
            params["compile"].pop(key, None)
        if params["compile"].get("processes") == 1:
            # one process is how every checkpoint was trained before the setting existed: keys stay
            params["compile"].pop("processes")
        return params

    def fingerprint(self, project: "Project"):
        cfg = project.config.compile
        from ..train import trainer_version

        ident = f"{cfg.trainer}:v{trainer_version(cfg.trainer)}"
        if cfg.trainer == "lora":
            from ..llm import hash_path

            base = Path(cfg.base_model)
            if not base.is_dir():
                from ..errors import UsageError

                raise UsageError(f"compile.base_model = {cfg.base_model!r} is not a local model directory",
                                 "point it at a save_pretrained folder (no downloads are made)")
            ident += f":{base.name}:{hash_path(base)}"
        return ident

    def run(self, ctx):
        project, cfg = ctx.project, ctx.config.compile
        base, patches = [], {}
        for discipline in project.disciplines():
            base += [s for s in ctx.upstream("synth", discipline) if isinstance(s, Sample)]
        for s in ctx.upstream("synth", PATCHES):
            patches.setdefault(s.source, []).append(s)
        if not base and not patches:
            _nothing_to_train(project)
        corpus = [c.text for d in project.disciplines() for c in ctx.upstream("chunk", d)
                  if isinstance(c, Chunk)]
        corpus_key = digest(sorted(digest(t) for t in corpus))
        # the base checkpoint depends on the base hyper-parameters only; patch steps add their own
        base_params = {k: v for k, v in ctx.recipe_data["params"]["compile"].items() if k not in _PATCH_ONLY}
        hparams = digest([ctx.recipe_data["stage"], ctx.recipe_data["version"], ctx.recipe_data["backend"],
                          base_params])
        steps = []  # (samples, parent index or None, epochs, lr)
        if cfg.continued:
            steps.append((base, None, cfg.epochs, cfg.learning_rate))
            for name in sorted(patches):
                steps.append((patches[name], len(steps) - 1, cfg.patch_epochs, cfg.patch_learning_rate))
        else:
            everything = base + [s for name in sorted(patches) for s in patches[name]]
            steps.append((everything, None, cfg.epochs, cfg.learning_rate))
        lineage: list[str] = []
        for samples, parent, epochs, lr in steps:
            parent_key = lineage[parent] if parent is not None else corpus_key
            key = digest(["checkpoint", hparams, parent_key, sorted(s.key for s in samples), epochs, lr])[:24]
            problem = checkpoint_problem(project, key)
            if problem is not None and checkpoint_dir(project, key).exists():
                _set_aside(project, key, problem)  # damaged: never trusted, trained again
                problem = "missing"
            if problem is None:
                ctx.counts.reused += 1
            else:
                parent_dir = checkpoint_dir(project, lineage[parent]) if parent is not None else None
                from ..train.checkpoint import train_checkpoint

                train_checkpoint(project, key, samples, corpus, parent_dir, epochs, lr,
                                 lineage[parent] if parent is not None else "")
                ctx.counts.built += 1
            lineage.append(key)
        ctx.extra["checkpoint"] = lineage[-1]
        ctx.extra["lineage"] = lineage
        # the hash of each checkpoint's files: part of the version id, and what results are keyed by
        ctx.extra["weights"] = {key: checkpoint_weights(project, key) for key in lineage}
        return []


def _nothing_to_train(project: "Project") -> None:
    """No sample at all: training would fail deep inside the tokenizer; say what to fix instead."""
    from ..errors import UsageError

    if not project.disciplines():
        raise UsageError("nothing to train on: specs/corpus/ has no discipline folder",
                         "put each discipline's documents in a folder of its own, e.g. "
                         "specs/corpus/physics/notes.md (txt, md, html, jsonl or pdf), then build again")
    raise UsageError("nothing to train on: the corpus gave no training sample "
                     "(every document was dropped, or none states a relation the extractor finds)",
                     "see why with `proda stats --dropped`; add documents that explain their subject in "
                     "prose, or use an LLM extractor (llm.backend: docs/backends.md)")


def _set_aside(project: "Project", key: str, problem: str) -> None:
    from ..engine import integrity

    folder = checkpoint_dir(project, key)
    issue = integrity.Problem(integrity.rel(project, folder), problem, "compile:all",
                              f"moved to {integrity.move_aside(project, folder)}")
    integrity.warn(issue)


STAGE = Compile()
