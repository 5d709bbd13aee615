"""How much of a stage's 2-process speedup the machine allows, and how much the build gets: one
JSON line, both measured side by side in each repetition.

    python tests/perf/stage_ceiling.py                          # chunk, 6,000 documents, 8 repetitions
    python tests/perf/stage_ceiling.py --stage ingest --reps 5
    python tests/perf/stage_ceiling.py --project DIR            # a project already built up to --stage

A project of ``--documents`` generated documents (those of tests/perf/scale.py) is built up to
``--stage``. Each repetition then rebuilds that stage from scratch four ways:

* ``ceiling``: the stage's shards run by :func:`proda.engine.runner.execute` directly — no doit, no
  pool, no task sent anywhere — in one process, and split between two processes started together
  (each has run one shard first, output removed, so neither pays a first call's costs). Its ratio,
  one process's seconds over two's, is what two cores give this stage's work on this machine;
* ``build``: ``proda build -j 1`` with the local executor against ``proda build -j 2`` with two
  worker processes (each task whole on a worker), each build in a fresh process, each stage's
  seconds the span of its tasks from their run stats — the ratio tests/perf/scale.py reports for
  the stage.

Both run with the local executor where one process is meant, whatever the project's ``[run]``
says; the two cases alternate which runs first. Read the two ratios side by side, not as a bound:
the ceiling leaves out what a fresh process pays on its first shard (~5 ms for chunk), the builds
include it, once in each worker; and ``-j 1``'s doit bookkeeping between tasks is serial where
``-j 2`` overlaps it with the other worker's task, so the build's ratio can exceed the ceiling's.
Where ``build`` falls well short of ``ceiling``, the build's cost per task (sending it, doit's
bookkeeping, which shares the two cores with the workers) is why; where ``ceiling`` is short, the
machine is.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import queue
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path[:0] = [str(HERE.parents[2]), str(HERE.parents[1])]
LOCAL = ('run.executor="local"',)  # one process means one process, whatever the project's [run] says


def _clear(build: Path, stage: str, shards=None) -> None:
    """Remove a stage's outputs (all, or ``shards``'): manifests, run stats and memo journals."""
    from proda.engine import layout

    if shards is None:
        shutil.rmtree(build / stage, ignore_errors=True)
        shutil.rmtree(build / "memo" / stage, ignore_errors=True)
        for path in layout.runs(build).glob(f"{stage}.*.json"):
            path.unlink()
        return
    for shard in shards:
        for path in (layout.manifest(build, stage, shard), layout.run_stats(build, stage, shard),
                     layout.journal(build, stage, shard)):
            path.unlink(missing_ok=True)


def _direct(root: str, stage: str, shards: list[str], warm: str, barrier, out) -> None:
    """A process of the ceiling: one shard run and undone (first-call costs), then ``shards``."""
    from proda.engine import runner
    from proda.engine.stage import get
    from proda.project import Project

    project = Project.at(root, LOCAL)
    step = get(stage)
    runner.execute(project, step, warm)
    _clear(project.build, stage, [warm])
    barrier.wait(timeout=600)
    started = time.perf_counter()
    for shard in shards:
        runner.execute(project, step, shard)
    out.put((started, time.perf_counter()))


def ceiling(root: Path, stage: str, processes: int) -> float:
    """Seconds from the first process's start to the last one's end, shards dealt round-robin."""
    from proda.engine.stage import get
    from proda.project import Project

    project = Project.at(root, LOCAL)
    shards = get(stage).shards(project)
    _clear(project.build, stage)
    context = mp.get_context("forkserver")
    barrier, out = context.Barrier(processes), context.Queue()
    workers = [context.Process(target=_direct, args=(str(root), stage, shards[k::processes], shards[k], barrier, out))
               for k in range(processes)]
    for w in workers:
        w.start()
    times = []
    while len(times) < processes:  # a process that failed says so, rather than leave this waiting
        try:
            times.append(out.get(timeout=1))
        except queue.Empty:
            failed = [w.exitcode for w in workers if w.exitcode not in (None, 0)]
            if failed:
                for w in workers:
                    w.kill()
                raise SystemExit(f"a ceiling process failed (exit code {failed[0]}); see its traceback above")
    for w in workers:
        w.join()
    return max(end for _, end in times) - min(start for start, _ in times)


_BUILD = """
import json, sys
from proda.engine import layout
from proda.make import build
from proda.project import Project
root, stage, processes = sys.argv[1], sys.argv[2], int(sys.argv[3])
overrides = ('run.executor="local"',) if processes == 1 else ('run.executor="processes"', f"run.workers={processes}")
project = Project.at(root, overrides)
build(project, until=stage, jobs=processes, quiet=True)
runs = [json.loads(p.read_text()) for p in layout.runs(project.build).glob(f"{stage}.*.json")]
print(max(r["finished"] for r in runs) - min(r["finished"] - r["seconds"] for r in runs))
"""


def build_span(root: Path, stage: str, processes: int) -> float:
    """The span of the stage's tasks in ``proda build`` -j 1 local, or -j N with N workers, in a
    process of its own (as a user's build: its first task pays for what it imports and loads)."""
    import subprocess

    from scale import child_env

    from proda.project import Project

    _clear(Project.at(root).build, stage)
    out = subprocess.run([sys.executable, "-c", _BUILD, str(root), stage, str(processes)], capture_output=True,
                         text=True, env=child_env(), check=True).stdout
    return float(out.strip().splitlines()[-1])


def summary(ratios: list[float]) -> dict:
    return {"ratios": [round(r, 2) for r in ratios], "median": round(statistics.median(ratios), 2),
            "min": round(min(ratios), 2), "max": round(max(ratios), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=6000)
    parser.add_argument("--stage", default="chunk", choices=("ingest", "chunk", "extract", "bench", "synth"))
    parser.add_argument("--reps", type=int, default=8)
    parser.add_argument("--project", type=Path, help="a project already built up to --stage (nothing is generated)")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        from proda.make import build
        from proda.project import Project, init_project

        root = args.project
        if root is None:
            from scale import write_corpus

            root = Path(tmp) / "project"
            init_project(root)
            shutil.rmtree(root / "specs" / "corpus")
            write_corpus(root / "specs" / "corpus", args.documents)
        build(Project.at(root, LOCAL), until=args.stage, quiet=True)  # up to the stage (nothing, if it is)
        pairs = {"ceiling": [], "build": []}
        seconds = {"ceiling": [], "build": []}
        for rep in range(args.reps):
            for name, measure in (("ceiling", ceiling), ("build", build_span)):
                if rep % 2 == 0:  # which runs first alternates: drift falls both ways
                    one, two = measure(root, args.stage, 1), measure(root, args.stage, 2)
                else:
                    two, one = measure(root, args.stage, 2), measure(root, args.stage, 1)
                pairs[name].append(one / two)
                seconds[name].append((round(one, 3), round(two, 3)))
    print(json.dumps({"stage": args.stage, "documents": None if args.project else args.documents, "reps": args.reps,
                      "ceiling": summary(pairs["ceiling"]), "build": summary(pairs["build"]),
                      "seconds_1_2": seconds, "cores": os.cpu_count(),
                      "load": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)}}))


if __name__ == "__main__":
    main()
