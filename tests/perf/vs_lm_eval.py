"""proda's scorer against lm-evaluation-harness, side by side in one run, on the same checkpoint.

Exports the project's benchmark as an lm-eval task (``proda export --format lm-eval``), runs
``lm_eval.simple_evaluate`` (HF backend, CPU, ``log_samples``) and proda's ``loglik`` scorer on the
same items and checkpoint, and prints one JSON line: items/s of each, the speed ratio, accuracy of
each, and how many per-item predictions agree.

    python tests/perf/vs_lm_eval.py --project DIR      # a built project (e.g. after `proda demo DIR`)

Without ``--project`` it builds a 3-discipline slice of the example project first (about a minute).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def slice_project(root: Path) -> Path:
    from proda.make import build
    from proda.project import Project
    from proda.project import example_specs, init_project

    init_project(root)
    for d in ("physics", "biology", "economics"):
        shutil.copytree(example_specs() / "corpus" / d, root / "specs" / "corpus" / d)
    (root / "specs" / "proda.toml").write_text("[compile]\nepochs = 8\n")
    build(Project.at(root))
    return root


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--project", type=Path)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    from proda.score.results import score_mc
    from proda.export import export_project
    from proda.score import predictions
    from proda.project import Project
    from proda.engine.outputs import checkpoint_dir, current_checkpoint
    from proda.engine.outputs import items as all_items

    with tempfile.TemporaryDirectory() as tmp:
        root = args.project or slice_project(Path(tmp) / "slice")
        project = Project.at(root)
        checkpoint = current_checkpoint(project)
        items = all_items(project)
        task_dir = export_project(project, "lm-eval", Path(tmp) / "task")

        import lm_eval
        from lm_eval.tasks import TaskManager

        start = time.perf_counter()
        out = lm_eval.simple_evaluate(
            model="hf", model_args=f"pretrained={checkpoint_dir(project, checkpoint)},dtype=float32",
            tasks=["proda"], device="cpu", batch_size=args.batch_size, log_samples=True,
            task_manager=TaskManager(include_path=str(task_dir)))
        lm_eval_s = time.perf_counter() - start
        logged = out["samples"]["proda"]
        lm_pred = dict(zip((s["doc"]["key"] for s in logged),
                           predictions([[r[0] for r in s["filtered_resps"]] for s in logged])))

        start = time.perf_counter()
        ours = score_mc(project, checkpoint, [(i.stem, [o.text for o in i.options]) for i in items])
        proda_s = time.perf_counter() - start
        our_pred = dict(zip((i.key for i in items), predictions(ours)))

    agree = sum(lm_pred.get(k) == v for k, v in our_pred.items())
    print(json.dumps({
        "items": len(items), "checkpoint": checkpoint,
        "proda_items_per_s": round(len(items) / proda_s, 1), "lm_eval_items_per_s": round(len(items) / lm_eval_s, 1),
        "speedup": round(lm_eval_s / proda_s, 2),
        "proda_acc": round(sum(our_pred[i.key] == i.answer for i in items) / len(items), 4),
        "lm_eval_acc": round(out["results"]["proda"]["acc,none"], 4),
        "predictions_agree": agree, "lm_eval_version": lm_eval.__version__ if hasattr(lm_eval, "__version__") else "",
    }))


if __name__ == "__main__":
    sys.exit(main())
