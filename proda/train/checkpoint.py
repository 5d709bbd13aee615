"""Train one checkpoint into build/checkpoints/<key>/ — atomically, resumably — and log it.

The trainer (tiny model or LoRA, ``compile.trainer``) writes into a ``.tmp-<key>`` folder with its
resumable state in ``.state-<key>``; the finished folder is renamed into place, and its loss curve
goes to the catalog's ``train_log``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import json
import os
import shutil
from pathlib import Path

from ..engine import layout, storage
from ..engine.outputs import checkpoint_dir, checkpoint_files
from ..hashing import digest
from ..text.format import sample_text

if TYPE_CHECKING:
    from ..project import Project


def train_checkpoint(project: "Project", key, samples, corpus, parent_dir, epochs, lr, parent_key) -> None:
    from ..train import get_trainer

    cfg = project.config.compile
    root = layout.checkpoints(project.build)
    tmp, state = root / f".tmp-{key}", root / f".state-{key}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    state.mkdir(parents=True, exist_ok=True)
    steps_log = state / "steps.jsonl"
    texts = [sample_text(s.prompt, s.response) for s in sorted(samples, key=lambda s: s.key)]

    with open(steps_log, "a") as log:
        def on_step(step: int, loss: float, rate: float) -> None:
            log.write(json.dumps([step, loss, rate]) + "\n")
            log.flush()

        if cfg.processes > 1:  # DDP under torchrun (proda/train/distributed.py)
            from .distributed import launch

            stats = launch(cfg.trainer, texts, tmp, cfg, corpus=corpus, init_from=parent_dir, epochs=epochs,
                           learning_rate=lr, state_dir=state, on_step=on_step)
        else:
            stats = get_trainer(cfg.trainer)(texts, tmp, cfg, corpus=corpus, init_from=parent_dir,
                                             epochs=epochs, learning_rate=lr, state_dir=state,
                                             on_step=on_step)
    files = checkpoint_files(tmp)  # what "ready" is checked against from now on
    meta = {"key": key, "parent": parent_key, "trainer": cfg.trainer, "samples": len(texts),
            "stats": stats, "files": files, "weights": digest(files)}
    storage.write_json(tmp / "proda.json", meta)
    final = checkpoint_dir(project, key)
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    _log_training(project, key, meta, steps_log)
    shutil.rmtree(state, ignore_errors=True)


def _log_training(project: "Project", key, meta, steps_log: Path) -> None:
    from ..engine.catalog import open_catalog

    rows: dict[int, list] = {}
    for line in steps_log.read_text().splitlines():
        try:
            step, loss, rate = json.loads(line)
        except ValueError:
            continue  # a torn last line from a killed run
        rows[step] = [key, step, loss, rate]  # a resumed run re-logs a step: keep the last
    with open_catalog(project) as cat:
        before = cat.query("SELECT stats FROM checkpoints WHERE key = ?", [key])
        if before and json.loads(before[0][0] or "{}").get("weights") != meta["weights"]:
            # the same recipe gave other weights (a GPU, or a checkpoint trained again after
            # damage): results are keyed by the weights, so the old ones no longer hold
            cat.execute("DELETE FROM results WHERE checkpoint = ?", [key])
            cat.execute("DELETE FROM diagnoses WHERE checkpoint = ?", [key])
        cat.execute("DELETE FROM train_log WHERE checkpoint = ?", [key])
        if rows:
            cat.con.executemany("INSERT INTO train_log VALUES (?, ?, ?, ?)", [rows[k] for k in sorted(rows)])
        cat.execute("INSERT OR REPLACE INTO checkpoints (key, parent, trainer, samples, stats) VALUES (?, ?, ?, ?, ?)",
                    [key, meta["parent"], meta["trainer"], meta["samples"],
                     json.dumps({**meta["stats"], "weights": meta["weights"]})])
