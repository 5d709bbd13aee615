"""Scale-out, measured side by side in one run: documents/s per stage on 1 process, 2 worker
processes and a 2-CPU local Ray cluster; the endpoint fleet's calls/s; a projection to the paper's
117k documents. Prints ONE JSON line.

    python tests/perf/scale.py                      # default size: about 5 minutes here
    python tests/perf/scale.py --documents 117000   # the paper's scale (hours on 2 cores)

For each executor (``local`` with 1 worker, ``processes`` with 2, ``ray`` with 2) a fresh copy of
one generated corpus (``--documents`` explanatory documents over 16 disciplines, about 2 KB each)
is built up to ``synth`` (the CPU-bound stages: ingest, chunk, heuristic extract, bench, synth) in
a subprocess, shards one at a time (``-j 1``), so a stage's seconds are its wall time. Figures:

* ``docs_per_s[executor][stage]``: documents / stage seconds; ``speedup`` and parallel
  ``efficiency`` (speedup / workers) of processes-2 and ray-2 over local-1, per stage and overall;
* ``same_version``: every executor gave the same version id;
* ``peak_rss_mb``: the driver's peak resident memory, and its worker processes' (processes only:
  Ray's workers are not the driver's children);
* ``noop_s``: a second ``proda build`` of the local copy (nothing to do) at this scale;
* ``ingest_mb_s_per_core``: corpus megabytes / ingest seconds on one process;
* ``fleet``: calls/s through the call cache against one loopback fake endpoint and against two
  (each a process of its own: tests/fake_openai.py), each endpoint working on ``--capacity``
  requests at once with ``--latency-ms`` per request, ``llm.concurrency = capacity`` per endpoint;
* ``projection``: hours for 117k documents on the stated cluster, from the measured processes-2
  rate per worker and efficiency (an assumption: the efficiency of 2 workers holds at that size);
* ``load``: the 1-minute load average before and after, and the machine's cores — the machine is
  shared, so ratios measured side by side are what to read, not absolute rates.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path[:0] = [str(HERE.parents[2]), str(HERE.parents[1])]

STAGES = ("ingest", "chunk", "extract", "bench", "synth")
DISCIPLINES = [f"discipline_{i:02}" for i in range(16)]
CLUSTER = {"nodes": 4, "cores_per_node": 32}  # the projection's cluster: 128 Ray workers

_BUILD = """
import json, resource, sys, time
from proda.make import build
from proda.project import Project
overrides = tuple(sys.argv[2:])
started = time.perf_counter()
result = build(Project.at(sys.argv[1], overrides), until="synth")
result["wall_s"] = time.perf_counter() - started
result["rss_self_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
result["rss_children_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps(result))
"""


def write_corpus(root: Path, documents: int) -> int:
    from conftest import doc

    written = 0
    for i in range(documents):
        folder = root / DISCIPLINES[i % len(DISCIPLINES)]
        folder.mkdir(parents=True, exist_ok=True)
        text = doc(f"topic{i}x{i * 7919 % 10007}", 3)
        (folder / f"doc{i:06}.md").write_text(text, encoding="utf-8")
        written += len(text.encode())
    return written


def run_build(root: Path, overrides: list[str]) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parents[2]), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", _BUILD, str(root), *overrides], capture_output=True, text=True,
                          env=env)
    if proc.returncode != 0:
        raise SystemExit(f"build with {overrides} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def fleet_rates(calls: int, capacity: int, latency_ms: float) -> dict:
    import duckdb
    import msgspec

    from proda.config import LLMConfig
    from proda.llm import map_concurrent
    from proda.llm.cache import CachedLLM, LLMCache
    from proda.llm.openai import OpenAILLM

    class Echo(msgspec.Struct):
        echo: str
        model: str

    def rate(urls: list[str], tag: str) -> float:
        with tempfile.TemporaryDirectory() as tmp:
            con = duckdb.connect(str(Path(tmp) / "proda.duckdb"))
            backend = OpenAILLM(LLMConfig(backend="openai", model="fake", base_url=urls, concurrency=capacity))
            llm = CachedLLM(backend, LLMCache(con))
            prompts = [[{"role": "user", "content": f"{tag} question {i}"}] for i in range(calls)]
            started = time.perf_counter()
            map_concurrent(lambda m: llm.complete_json(m, Echo, params={"max_tokens": 8}), prompts,
                           backend.concurrency)
            seconds = time.perf_counter() - started
            llm.close()
            con.close()
        return calls / seconds

    # each fake endpoint in a process of its own, like a server on another GPU (and off this GIL)
    servers = [subprocess.Popen([sys.executable, str(HERE.parents[1] / "fake_openai.py"), str(latency_ms),
                                 str(capacity)], stdout=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        urls = [server.stdout.readline().strip() for server in servers]
        one = rate(urls[:1], "one")
        two = rate(urls, "two")
    finally:
        for server in servers:
            server.terminate()
            server.wait()
    return {"one_endpoint_calls_s": round(one, 1), "two_endpoints_calls_s": round(two, 1),
            "speedup": round(two / one, 2), "capacity_per_endpoint": capacity, "latency_ms": latency_ms,
            "calls": calls}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=320)
    parser.add_argument("--executors", default="local,processes,ray")
    parser.add_argument("--fleet-calls", type=int, default=160)
    parser.add_argument("--capacity", type=int, default=4)
    parser.add_argument("--latency-ms", type=float, default=200.0)  # an LLM call takes at least this
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    configs = {"local": ['run.executor="local"'], "processes": ['run.executor="processes"', "run.workers=2"],
               "ray": ['run.executor="ray"', "run.workers=2"]}
    wanted = [k for k in args.executors.split(",") if k]
    if "ray" in wanted:
        try:
            import ray  # noqa: F401
        except ImportError:
            wanted.remove("ray")
    from proda.project import init_project

    out: dict = {"documents": args.documents, "cores": os.cpu_count(), "docs_per_s": {}, "seconds": {},
                 "peak_rss_mb": {}}
    versions = {}
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        corpus_bytes = write_corpus(corpus, args.documents)
        out["corpus_mb"] = round(corpus_bytes / 1e6, 2)
        for kind in wanted:
            root = Path(tmp) / kind
            init_project(root)
            shutil.rmtree(root / "specs" / "corpus")
            shutil.copytree(corpus, root / "specs" / "corpus")
            result = run_build(root, configs[kind])
            versions[kind] = result["version"]
            seconds = {s: result["stages"][s]["seconds"] for s in STAGES}
            seconds["all"] = round(sum(seconds.values()), 3)
            out["seconds"][kind] = seconds
            out["docs_per_s"][kind] = {s: round(args.documents / max(t, 1e-9), 1) for s, t in seconds.items()}
            out["peak_rss_mb"][kind] = {"driver": round(result["rss_self_mb"], 1),
                                        "workers": round(result["rss_children_mb"], 1)}
            if kind == "local":
                out["ingest_mb_s_per_core"] = round(corpus_bytes / 1e6 / max(seconds["ingest"], 1e-9), 2)
                started = time.perf_counter()
                subprocess.run([sys.executable, "-m", "proda", "build", "--until", "synth", "--json"], cwd=root,
                               capture_output=True, check=True)
                out["noop_s"] = round(time.perf_counter() - started, 3)
    out["same_version"] = len(set(versions.values())) == 1
    out["version"] = next(iter(versions.values()), None)
    base = out["seconds"].get("local")
    for kind in ("processes", "ray"):
        if base and kind in out["seconds"]:
            speed = {s: round(base[s] / max(out["seconds"][kind][s], 1e-9), 2) for s in base}
            out[f"speedup_{kind}_2"] = speed
            out[f"efficiency_{kind}_2"] = {s: round(v / 2, 2) for s, v in speed.items()}
    out["fleet"] = fleet_rates(args.fleet_calls, args.capacity, args.latency_ms)
    if base and "processes" in out["seconds"]:
        per_worker = args.documents / out["seconds"]["processes"]["all"] / 2
        workers = CLUSTER["nodes"] * CLUSTER["cores_per_node"]
        hours = 117_000 / (per_worker * workers) / 3600
        out["projection"] = {"documents": 117_000, "cluster": CLUSTER, "executor": "ray",
                             "assumes": "per-worker rate of processes-2 here, its efficiency held at 128 workers",
                             "hours": round(hours, 2), "per_worker_docs_s": round(per_worker, 2)}
    out["load"] = {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)}
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
