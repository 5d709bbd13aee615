"""Training on several processes: the trainer runs under ``torchrun`` with DDP when
``compile.processes`` > 1 (gloo on CPU, NCCL on GPUs).

:func:`launch` is called by the compile stage in place of a trainer. It writes the job (texts,
corpus, settings) next to the trainer state, runs ``python -m torch.distributed.run --standalone
--nproc_per_node N -m proda.train.distributed JOB``, and reads back rank 0's stats and per-step
losses. Each rank runs the same trainer function (proda/train/tiny.py or lora.py): the same seed
gives the same initial weights, every batch is split across the ranks, DDP averages the gradients
with the loss scaled so a step is the one a single process would take on the whole batch, and rank 0
alone saves the checkpoint and the resumable state. The result equals the single-process one only
up to the order of float additions, so ``compile.processes`` is part of the checkpoint key when it
is above 1 (see proda/stages/compile.py). CPU threads are split between the ranks.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

JOB, STATS, STEPS = "ddp-job.json", "ddp-stats.json", "ddp-steps.jsonl"


def launch(trainer: str, texts: list, out_dir: Path, cfg: Any, *, corpus: list[str], init_from: Path | None,
           epochs: float, learning_rate: float, state_dir: Path, on_step=None) -> dict:
    import msgspec

    from ..errors import StageError
    from ._loop import choose_threads

    state_dir, out_dir = Path(state_dir), Path(out_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    job = {"trainer": trainer, "texts": texts, "out_dir": str(out_dir), "cfg": msgspec.to_builtins(cfg),
           "corpus": list(corpus), "init_from": str(init_from) if init_from else None, "epochs": float(epochs),
           "learning_rate": float(learning_rate), "state_dir": str(state_dir)}
    (state_dir / JOB).write_text(json.dumps(job), encoding="utf-8")
    (state_dir / STATS).unlink(missing_ok=True)
    processes = cfg.processes
    threads = max(1, choose_threads() // processes)
    env = {**os.environ, "PRODA_THREADS": str(threads), "OMP_NUM_THREADS": str(threads)}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}",
               "-m", "proda.train.distributed", str(state_dir / JOB)]
    proc = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0 or not (state_dir / STATS).exists():
        raise StageError(f"training on {processes} processes (torchrun) failed with exit code {proc.returncode}:\n"
                         f"{proc.stderr[-2000:]}",
                         "run with compile.processes = 1 to see the error in one process")
    if on_step is not None and (state_dir / STEPS).exists():
        for line in (state_dir / STEPS).read_text(encoding="utf-8").splitlines():
            try:
                step, loss, rate = json.loads(line)
            except ValueError:
                continue  # a torn line from a killed run
            on_step(step, loss, rate)
    return json.loads((state_dir / STATS).read_text(encoding="utf-8"))


def main(job_path: str) -> None:
    """One rank (started by torchrun, which sets RANK, WORLD_SIZE and the rendezvous)."""
    import msgspec
    import torch
    import torch.distributed as dist

    from ..config import CompileConfig
    from . import get_trainer

    dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
    rank = dist.get_rank()
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", rank)))
    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    state_dir = Path(job["state_dir"])
    out_dir = Path(job["out_dir"]) if rank == 0 else state_dir / f"rank{rank}-discard"
    log = open(state_dir / STEPS, "a", encoding="utf-8") if rank == 0 else None

    def on_step(step: int, loss: float, rate: float) -> None:
        if log is not None:
            log.write(json.dumps([step, loss, rate]) + "\n")
            log.flush()

    try:
        stats = get_trainer(job["trainer"])(
            job["texts"], out_dir, msgspec.convert(job["cfg"], CompileConfig), corpus=job["corpus"],
            init_from=Path(job["init_from"]) if job["init_from"] else None, epochs=job["epochs"],
            learning_rate=job["learning_rate"], state_dir=state_dir, on_step=on_step)
        dist.barrier()
        if rank == 0:
            tmp = state_dir / f".{STATS}.tmp"
            tmp.write_text(json.dumps(stats), encoding="utf-8")
            os.replace(tmp, state_dir / STATS)
        else:
            shutil.rmtree(out_dir, ignore_errors=True)
    finally:
        if log is not None:
            log.close()
        dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
