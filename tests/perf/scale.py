"""Scale-out, measured side by side in one run: documents/s per stage on 1 process, 2 worker
processes and a 2-CPU local Ray cluster; the endpoint fleet's calls/s; a projection to the paper's
117k documents. Prints ONE JSON line.

    python tests/perf/scale.py                      # 6,000 documents: about 5 minutes here
    python tests/perf/scale.py --documents 117000   # the paper's scale (hours on 2 cores)
    python tests/perf/scale.py --paragraphs 24      # documents of about 19 KB instead of 2 KB
    python tests/perf/scale.py --executors local,processes --jobs 2 --fleet-calls 0
                                                    # two shard tasks at once, each whole on a
                                                    # worker; no fleet figure
    python tests/perf/scale.py --documents 60000 --until chunk --executors local,processes --fleet-calls 0
                                                    # the cheap early stages with seconds of work

For each executor (``local`` with 1 worker, ``processes`` with 2, ``ray`` with 2) a fresh copy of
one generated corpus (``--documents`` explanatory documents over 16 disciplines, about 2.4 KB each)
is built up to ``synth`` (the CPU-bound stages: ingest, chunk, heuristic extract, bench, synth) in
a subprocess. A stage's seconds are its wall time: the span of its tasks, from the first one's
start to the last one's end (their run stats). By default shards run one at a time (``--jobs
1``, i.e. ``proda build -j 1``), and the workers get each task's units. ``--jobs N`` builds
``processes`` and ``ray`` with ``-j N``: N (stage, shard) tasks at once — with worker processes
each CPU-bound task runs whole on a worker (its serial part too: reading the upstream shard, the
unit keys, the journal, the publish), with Ray the tasks share its workers for their units. They
are then built one stage per build, so that no two stages' tasks overlap; ``build`` is then the sum of
those builds' wall times (each pays doit's planning and the version record). ``local`` is always
built with ``-j 1``: one process, one task at a time. The generated documents repeat one template per topic, so the bench stage keeps none
of their items (it builds every chain's candidates and drops them all: no symmetric option set, or
every set tells; that is its work here) and synth's contamination check has no item to check
against; the example project and ../shared/corpus/openstax are where items are measured
(tests/perf/bench_validity.py). Figures (``jobs``: the N used):

* ``docs_per_s[executor][stage]``: documents / stage seconds; ``all``: documents / the sum of the
  five stages' seconds; ``build``: documents / the wall time of the whole
  ``build(until="synth")`` call (doit's planning, the pool's start and the version record
  included; with ``--jobs`` above 1, of the five one-stage builds together, each paying those); ``speedup`` and parallel ``efficiency``
  (speedup / workers) of processes-2 and ray-2 (at ``--jobs``) over local-1 (at ``-j 1``), per stage,
  overall and for the whole build;
* ``same_version``: every executor gave the same version id;
* ``peak_rss_mb``: the driver's peak resident memory, and the peak of the sum over the driver and
  every process it started (pool workers; Ray's raylet, GCS and workers), sampled every 0.25 s;
* ``driver_cpu_s``: CPU seconds of the build process itself; with worker processes, its share of
  local-1's CPU seconds is the work that stays serial, and ``amdahl_speedup_2_idle_cores`` the
  speedup that share allows on two idle cores (derived, for a shared machine where wall time
  cannot show it; with ``--jobs`` above 1 and worker processes the build process only plans and
  waits, so the share is near 0 and the bound says nothing); ``ray_start_s``: the local Ray cluster's start, kept out of the stage times;
* ``noop_s``: a second ``proda build`` of the local copy (nothing to do) at this scale;
* ``ingest_mb_s_per_core`` (local-1): corpus megabytes / ingest seconds on one process (2 KB
  documents: per-file work dominates; tests/perf/ingest.py measures throughput on large files);
* ``fleet``: calls/s through the call cache against one loopback fake endpoint and against two
  (each a process of its own: tests/fake_openai.py), each endpoint working on ``--capacity``
  requests at once with ``--latency-ms`` per request, ``llm.concurrency = capacity`` per endpoint
  (left out with ``--fleet-calls 0``);
* ``projection``: hours for 117k documents on the stated cluster, from the measured processes-2
  rate per worker (``all``) and efficiency (an assumption: the
  efficiency of 2 workers holds at that size);
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
import json, os, resource, sys, threading, time
from proda.make import build
from proda.project import Project

def tree_rss():
    # resident memory of this process and every descendant (pool workers, Ray's raylet and workers)
    parent, rss = {}, {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            parent[int(pid)], rss[int(pid)] = int(fields[1]), int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            pass
    mine, total = {os.getpid()}, 0
    changed = True
    while changed:
        changed = False
        for pid, ppid in parent.items():
            if ppid in mine and pid not in mine:
                mine.add(pid)
                changed = True
    return sum(rss.get(pid, 0) for pid in mine)

peak = [0]
done = threading.Event()
def sample():
    while not done.wait(0.25):
        peak[0] = max(peak[0], tree_rss())
threading.Thread(target=sample, daemon=True).start()
jobs = int(sys.argv[2])
until = sys.argv[3]
overrides = tuple(sys.argv[4:])
ray_start = 0.0
if 'run.executor="ray"' in overrides:  # the cluster's start-up, timed apart from the stages
    import ray
    ray_start = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray_start = time.perf_counter() - ray_start
started = time.perf_counter()
project = Project.at(sys.argv[1], overrides)
from proda.engine import layout
from proda.engine.stage import ORDER

def span(stage):
    # a stage's wall time: from its first task's start to its last task's end (their run stats)
    runs = [json.loads(p.read_text()) for p in layout.runs(project.build).glob(f"{stage}.*.json")]
    return max(r["finished"] for r in runs) - min(r["finished"] - r["seconds"] for r in runs)

stages = ORDER[:ORDER.index(until) + 1]
if jobs == 1:  # one task at a time: the stages follow one another in one build
    result = build(project, until=until, jobs=jobs)
    result["spans"] = {stage: span(stage) for stage in stages}
else:  # one stage per build, so that no two stages' tasks overlap
    spans = {}
    for stage in stages:
        result = build(project, until=stage, jobs=jobs)
        spans[stage] = span(stage)
    result["spans"] = spans
done.set()
result["wall_s"] = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_SELF)
result["rss_driver_mb"] = usage.ru_maxrss / 1024
result["driver_cpu_s"] = usage.ru_utime + usage.ru_stime
result["rss_tree_mb"] = max(peak[0], tree_rss()) / 2**20
result["ray_start_s"] = ray_start
print(json.dumps(result))
"""


def write_corpus(root: Path, documents: int, paragraphs: int = 3) -> int:
    from conftest import doc

    written = 0
    for i in range(documents):
        folder = root / DISCIPLINES[i % len(DISCIPLINES)]
        folder.mkdir(parents=True, exist_ok=True)
        text = doc(f"topic{i}x{i * 7919 % 10007}", paragraphs)
        (folder / f"doc{i:06}.md").write_text(text, encoding="utf-8")
        written += len(text.encode())
    return written


def child_env() -> dict[str, str]:
    """The environment of a child build process: this checkout first on its path."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parents[2]), os.environ.get("PYTHONPATH", "")])}


def run_build(root: Path, overrides: list[str], jobs: int = 1, until: str = "synth") -> dict:
    env = child_env()
    proc = subprocess.run([sys.executable, "-c", _BUILD, str(root), str(jobs), until, *overrides], capture_output=True,
                          text=True, env=env)
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
    parser.add_argument("--documents", type=int, default=6000)  # about 5 minutes here, all executors
    parser.add_argument("--executors", default="local,processes,ray")
    # 3 paragraphs: about 2.4 KB a document (the default figure); more: larger documents, more
    # work per unit and per shard (a figure beside the default one, not instead of it)
    parser.add_argument("--paragraphs", type=int, default=3)
    # -j N: N stage shards at once (doit's -n); with worker processes each runs whole on a worker.
    # Above 1, one build per stage: a stage's seconds are the span of its tasks
    parser.add_argument("--jobs", "-j", type=int, default=1)
    # the last stage built: --until chunk measures the early, cheap stages at a size where they
    # have seconds of work (--documents 60000) without the hours of extraction that size takes
    parser.add_argument("--until", choices=STAGES, default="synth")
    parser.add_argument("--fleet-calls", type=int, default=120, help="0: no fleet measurement")
    parser.add_argument("--capacity", type=int, default=4)
    # an extraction call (hundreds of generated JSON tokens) takes seconds on a real server
    parser.add_argument("--latency-ms", type=float, default=500.0)
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

    jobs = max(1, args.jobs)
    stages = STAGES[:STAGES.index(args.until) + 1]
    out: dict = {"documents": args.documents, "paragraphs": args.paragraphs, "cores": os.cpu_count(),
                 "jobs": jobs, "until": args.until, "docs_per_s": {}, "seconds": {},
                 "peak_rss_mb": {}}
    versions = {}
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        corpus_bytes = write_corpus(corpus, args.documents, args.paragraphs)
        out["corpus_mb"] = round(corpus_bytes / 1e6, 2)
        for kind in wanted:
            root = Path(tmp) / kind
            init_project(root)
            shutil.rmtree(root / "specs" / "corpus")
            shutil.copytree(corpus, root / "specs" / "corpus")
            mine = 1 if kind == "local" else jobs  # local-1: one process, one task at a time
            result = run_build(root, configs[kind], mine, args.until)
            versions[kind] = result["version"]
            seconds = {s: round(result["spans"][s], 3) for s in stages}  # first task's start to last's end
            seconds["all"] = round(sum(seconds.values()), 3)
            seconds["build"] = round(result["wall_s"], 3)
            out["seconds"][kind] = seconds
            out["docs_per_s"][kind] = {s: None if t is None else round(args.documents / max(t, 1e-9), 1)
                                       for s, t in seconds.items()}
            out.setdefault("driver_cpu_s", {})[kind] = round(result["driver_cpu_s"], 2)
            if kind == "ray":
                out["ray_start_s"] = round(result["ray_start_s"], 2)
            out["peak_rss_mb"][kind] = {"driver": round(result["rss_driver_mb"], 1),
                                        "with_workers": round(result["rss_tree_mb"], 1)}
            if kind == "local":
                out["ingest_mb_s_per_core"] = round(corpus_bytes / 1e6 / max(seconds["ingest"], 1e-9), 2)
            if kind == "local":
                started = time.perf_counter()
                subprocess.run([sys.executable, "-m", "proda", "build", "--until", args.until, "--json"], cwd=root,
                               capture_output=True, check=True, env=child_env())  # this checkout's proda
                out["noop_s"] = round(time.perf_counter() - started, 3)
    out["same_version"] = len(set(versions.values())) == 1
    out["version"] = next(iter(versions.values()), None)
    base = out["seconds"].get("local")
    for kind in ("processes", "ray"):
        if base and kind in out["seconds"]:
            theirs = out["seconds"][kind]
            speed = {s: None if base[s] is None else round(base[s] / max(theirs[s], 1e-9), 2) for s in base}
            out[f"speedup_{kind}_2"] = speed
            out[f"efficiency_{kind}_2"] = {s: None if v is None else round(v / 2, 2) for s, v in speed.items()}
    cpu = out.get("driver_cpu_s", {})
    if "local" in cpu and "processes" in cpu:
        # the share of the work the driver still does itself with 2 workers (recipe keys, journal,
        # decoding, the stages' reduce steps): Amdahl's bound for 2 idle cores, derived, not timed
        serial = min(1.0, cpu["processes"] / max(cpu["local"], 1e-9))
        out["driver_share_processes_2"] = round(serial, 3)
        out["amdahl_speedup_2_idle_cores"] = round(1 / (serial + (1 - serial) / 2), 2)
    if args.fleet_calls > 0:
        out["fleet"] = fleet_rates(args.fleet_calls, args.capacity, args.latency_ms)
    if base and "processes" in out["seconds"]:
        measured = out["seconds"]["processes"]
        per_worker = args.documents / measured["all"] / 2
        workers = CLUSTER["nodes"] * CLUSTER["cores_per_node"]
        hours = 117_000 / (per_worker * workers) / 3600
        out["projection"] = {"documents": 117_000, "cluster": CLUSTER, "executor": "ray",
                             "assumes": "per-worker rate of processes-2 here, its efficiency held at 128 workers",
                             "hours": round(hours, 3), "minutes": round(hours * 60, 1),
                             "per_worker_docs_s": round(per_worker, 2)}
    out["load"] = {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)}
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
