"""No-op build and status at the paper's scale, against a bare import; ingest throughput.

Writes a synthetic project at the paper's scale — 48k chunks, 458k knowledge nodes, 160k
samples, 16k benchmark items — with records published directly (no extraction), marks the doit
state done with ``doit reset-dep``, then times in one run, side by side (median of 5):

    python -c "import proda.cli"     (import_s)
    proda build                       (noop_build_s: nothing to do)
    proda status                      (noop_status_s)

what integrity costs beyond the no-op check — the preflight of a build that runs the graph
(``preflight_s``: every current object hashed, ``current_objects_mb`` of them), a build that
finds nothing to do that way (``nothing_to_do_full_build_s``) and ``proda verify`` (``verify_s``) —
and ingest throughput (``ingest_mb_s``) of ``proda build --until ingest`` on a generated corpus
(``--corpus-mb``, 500 by default). Prints one JSON line. Run: ``python tests/perf/noop.py``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from proda.engine import stage as stages, storage
from proda.engine.runner import publish, recipe_of
from proda.project import Project
from proda.records import (Chain, Chunk, Concept, Document, Item, Option, Result, Sample, Span, Statement,
                           Step, make)
from proda.project import init_project

DISCIPLINES = [f"discipline_{i:02}" for i in range(16)]
PER = {"documents": 300, "chunks": 3000, "chains": 6000, "statements": 12625, "concepts": 10000,
       "items": 1000, "samples": 10000}  # x16: 48k chunks, 458k nodes, 16k items, 160k samples
WORDS = ("energy heat pressure cell enzyme market price demand supply rock plate ocean star orbit "
         "memory learning signal network protein gene climate carbon current voltage force mass "
         "population species reaction acid base metal crystal policy rate growth").split()


def sentence(rng: random.Random) -> str:
    w = [rng.choice(WORDS) for _ in range(rng.randint(8, 16))]
    link = rng.choice(["because", "therefore", "which causes", "so", "as a result", "increases", "requires"])
    w.insert(len(w) // 2, link)
    return " ".join(w).capitalize() + "."


def paragraph(rng: random.Random, n: int = 6) -> str:
    return " ".join(sentence(rng) for _ in range(n))


def write_scale_project(root: Path) -> Project:
    rng = random.Random(0)
    init_project(root)
    project = Project.at(root)
    for d in DISCIPLINES:
        folder = project.corpus / d
        folder.mkdir(parents=True)
        for i in range(PER["documents"]):
            (folder / f"doc{i:04}.md").write_text(f"# Doc {i}\n\n{paragraph(rng, 4)}\n")
    recipes = {name: recipe_of(stages.get(name), project) for name in stages.ORDER}
    for d in DISCIPLINES:
        docs = [make(Document, discipline=d, path=f"{d}/doc{i:04}.md", title=f"Doc {i}", text=f"text {d} {i}",
                     source_hash="0", words=3) for i in range(PER["documents"])]
        publish(project, "ingest", d, docs, recipes["ingest"])
        chunks = [make(Chunk, doc=docs[i % len(docs)].key, discipline=d, index=i, span=Span(start=0, end=5),
                       text=f"chunk {d} {i}") for i in range(PER["chunks"])]
        publish(project, "chunk", d, chunks, recipes["chunk"])
        step = Step(text="a step", span=Span(start=0, end=6))
        chains = [make(Chain, chunk=chunks[i % len(chunks)].key, doc=docs[0].key, discipline=d,
                       process=f"process {i}", preconditions=[], steps=[step, step]) for i in range(PER["chains"])]
        st = [make(Statement, chain=chains[i % len(chains)].key, chunk=chunks[0].key, doc=docs[0].key,
                   discipline=d, subject=f"s{i}", relation="causes", object=f"o{i}", quote="q",
                   span=Span(start=0, end=1), steps=[0, 1]) for i in range(PER["statements"])]
        co = [make(Concept, discipline=d, name=f"concept {i}", aliases=[], category="entity", definition="d",
                   statements=[st[i % len(st)].key]) for i in range(PER["concepts"])]
        publish(project, "extract", d, chains + st + co, recipes["extract"], {"orphans": 0})
        opts = [Option(text=f"option {k}", operator="" if k == 0 else "adjacency", reason="") for k in range(4)]
        items = [make(Item, discipline=d, chain=chains[i].key, doc=docs[0].key, statements=[], concepts=[],
                      variant="conclusion", split="dev" if i % 2 else "holdout", stem=f"stem {d} {i}",
                      options=opts, answer=0) for i in range(PER["items"])]
        publish(project, "bench", d, items, recipes["bench"])
        samples = [make(Sample, discipline=d, format="open", prompt=f"prompt {d} {i}", response="r",
                        statements=[], concepts=[], origin="synth", source="") for i in range(PER["samples"])]
        publish(project, "synth", d, samples, recipes["synth"], {"contaminated": 0})
    publish(project, "synth", "patches", [], recipes["synth"], {"contaminated": 0})
    checkpoint = project.build / "checkpoints" / "synthetic"  # a stand-in binary that verifies
    checkpoint.mkdir(parents=True)
    (checkpoint / "model.safetensors").write_bytes(b"weights")
    from proda.engine.outputs import checkpoint_files
    from proda.engine.storage import write_json
    from proda.hashing import digest

    files = checkpoint_files(checkpoint)
    write_json(checkpoint / "proda.json", {"key": "synthetic", "files": files, "weights": digest(files)})
    publish(project, "compile", "all", [], recipes["compile"],
            {"checkpoint": "synthetic", "lineage": ["synthetic"], "weights": {"synthetic": digest(files)}})
    results = [make(Result, checkpoint="synthetic", item=f"{i:032x}", chosen=0, scores=[0.0] * 4, correct=True)
               for i in range(16 * PER["items"])]
    publish(project, "test", "all", results, recipes["test"], {"checkpoint": "synthetic", "accuracy": {}})
    import contextlib

    from proda.make import run_doit

    with contextlib.redirect_stdout(sys.stderr):  # doit lists what it processed; stdout is for the JSON line
        rc = run_doit(project, ["reset-dep"])
    assert rc in (0, None), rc
    # doit keeps the hash of the manifest each task wrote (a manifest it did not write is rebuilt):
    # record those of the manifests published above, as the tasks would have
    from doit.dependency import Dependency, SqliteDB

    from proda.engine import layout
    from proda.make import _file_hash, xxh_checker

    dep = Dependency(SqliteDB, str(layout.doit_db(project.build)), checker_cls=xxh_checker())
    for name in stages.ORDER:
        for shard in stages.get(name).shards(project):
            dep.get_values(f"{name}:{shard}")  # loads the task's state, which _set then extends
            dep._set(f"{name}:{shard}", "_values_:",
                     {"manifest": _file_hash(str(layout.manifest(project.build, name, shard)))})
    dep.close()
    return project


def timed(cmd: list[str], cwd: Path, repeat: int = 5) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
        runs.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    return statistics.median(runs)


def ingest_throughput(root: Path, megabytes: int) -> tuple[float, int]:
    rng = random.Random(1)
    init_project(root)
    project = Project.at(root)
    target, written, n = megabytes * 1_000_000, 0, 0
    block = [paragraph(rng, 8) for _ in range(400)]  # reused blocks, shuffled per file
    while written < target:
        folder = project.corpus / DISCIPLINES[n % 16]
        folder.mkdir(parents=True, exist_ok=True)
        rng.shuffle(block)
        text = f"# File {n}\n\n" + f"\n\nunique marker {n}\n\n".join(block[:120]) + "\n"
        (folder / f"f{n:05}.txt").write_text(text)
        written += len(text)
        n += 1
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "proda", "build", "--until", "ingest", "--json"],
                          cwd=root, capture_output=True, text=True)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    return written / 1e6 / took, n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus-mb", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        project = write_scale_project(Path(tmp) / "scale")
        setup = time.perf_counter() - t0
        py = sys.executable
        # an installed wheel has its bytecode compiled at install time; an editable checkout under
        # PYTHONDONTWRITEBYTECODE=1 would recompile every module on every run and measure that instead
        import proda

        subprocess.run([py, "-m", "compileall", "-q", str(Path(proda.__file__).parent)], check=True)
        import_s = timed([py, "-c", "import proda.cli"], project.root)
        build_s = timed([py, "-m", "proda", "build", "--json"], project.root)
        out = subprocess.run([py, "-m", "proda", "build", "--json"], cwd=project.root, capture_output=True, text=True)
        built = sum(s["built"] for s in json.loads(out.stdout)["stages"].values())
        status_s = timed([py, "-m", "proda", "status", "--json"], project.root)
        # what integrity costs when the no-op check does not answer: the preflight of every build
        # that runs the graph (every current object hashed, checkpoints verified), a whole build
        # that finds nothing to do that way, and `proda verify` (everything under build/)
        from proda.engine import integrity
        from proda.engine.versions import manifests

        started = time.perf_counter()
        problems = integrity.preflight(project, repair=False)
        preflight_s = time.perf_counter() - started
        assert not problems, problems
        objects_mb = sum(storage.Objects(project.build).path(m["object"]).stat().st_size
                         for m in manifests(project).values()) / 1e6
        stamp = project.build / ".stamp"
        runs = []
        for _ in range(3):
            stamp.unlink()
            runs.append(timed([py, "-m", "proda", "build", "--json"], project.root, repeat=1))
        full_build_s = statistics.median(runs)
        verify_s = timed([py, "-m", "proda", "verify", "--json"], project.root, repeat=3)
        mb_s, files = ingest_throughput(Path(tmp) / "ingest", args.corpus_mb)
    print(json.dumps({
        "noop_build_s": round(build_s, 3), "noop_status_s": round(status_s, 3), "import_s": round(import_s, 3),
        "build_over_import": round(build_s / import_s, 2), "noop_built": built,
        "preflight_s": round(preflight_s, 3), "current_objects_mb": round(objects_mb, 1),
        "nothing_to_do_full_build_s": round(full_build_s, 3), "verify_s": round(verify_s, 3),
        "ingest_mb_s": round(mb_s, 2), "ingest_corpus_mb": args.corpus_mb, "ingest_files": files,
        "scale": {k: v * 16 for k, v in PER.items()}, "setup_s": round(setup, 1),
    }))


if __name__ == "__main__":
    main()
