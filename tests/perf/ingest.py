"""Ingest throughput on one core, and where its time goes. Prints ONE JSON line.

    python tests/perf/ingest.py [--corpus-mb 40]

Generates a corpus of ``--corpus-mb`` megabytes in files of about 100 KB (the generator of
tests/perf/noop.py), then measures in one run:

* ``stage_mb_s``: ``proda build --until ingest`` end to end (read, decode, normalise, quality
  filter, MinHash signature, dedup, publish), one process, one shard at a time, over wall time;
  ``stage_cpu_mb_s``: the same over the CPU seconds (user + system) that build used, start-up
  included — per core, and far less swayed than wall time when others share the machine;
* ``parts_mb_s``: the per-document steps alone on the same texts (best of 3, CPU time) — ``normalise``, ``quality``
  (token statistics and marker counts), ``minhash`` (shingles and the 64-value signature), and
  ``assess`` (quality and signature from one tokenisation, what ingest runs);
* ``load``: the 1-minute load average before and after (the machine may be shared).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path[:0] = [str(HERE.parents[2]), str(HERE.parent)]


def best_rate(fn, texts: list[str], repeat: int = 3) -> float:
    megabytes = sum(len(t.encode()) for t in texts) / 1e6
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        for text in texts:
            fn(text)
        best = min(best, time.process_time() - started)
    return round(megabytes / best, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus-mb", type=int, default=40)
    args = parser.parse_args()
    from noop import DISCIPLINES, paragraph

    from proda.config import IngestConfig
    from proda.corpus.quality import assess, quality, shingles, signature
    from proda.corpus.readers import normalise
    from proda.project import Project, init_project

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ingest"
        init_project(root)
        project = Project.at(root)
        rng = random.Random(1)
        block = [paragraph(rng, 8) for _ in range(400)]
        target, written, n = args.corpus_mb * 1_000_000, 0, 0
        while written < target:
            folder = project.corpus / DISCIPLINES[n % 16]
            folder.mkdir(parents=True, exist_ok=True)
            rng.shuffle(block)
            text = f"# File {n}\n\n" + f"\n\nunique marker {n}\n\n".join(block[:120]) + "\n"
            (folder / f"f{n:05}.txt").write_text(text)
            written += len(text)
            n += 1
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parents[2]), os.environ.get("PYTHONPATH", "")])}
        import resource

        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "proda", "build", "--until", "ingest", "--json"], cwd=root,
                              capture_output=True, text=True, env=env)
        took = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if proc.returncode != 0:
            raise SystemExit(proc.stderr)
        sample = sorted(project.corpus.rglob("*.txt"))[:40]
        texts = [normalise(p.read_text()) for p in sample]
        raw = [p.read_text() for p in sample]
    cfg = IngestConfig()
    print(json.dumps({
        "corpus_mb": round(written / 1e6, 1), "files": n, "stage_mb_s": round(written / 1e6 / took, 2),
        "stage_cpu_mb_s": round(written / 1e6 / cpu, 2),
        "parts_mb_s": {"normalise": best_rate(normalise, raw), "quality": best_rate(lambda t: quality(t, cfg), texts),
                       "minhash": best_rate(lambda t: signature(shingles(t)), texts),
                       "assess": best_rate(lambda t: assess(t, cfg), texts)},
        "load": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
    }, sort_keys=True))


if __name__ == "__main__":
    main()
