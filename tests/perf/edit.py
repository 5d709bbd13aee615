"""Rebuilding after one edited document, at scale. Prints ONE JSON line.

    python tests/perf/edit.py                      # 3,000 generated documents, 3 edits (~35 s here)
    python tests/perf/edit.py --documents 6000     # twice the corpus: does the rebuild grow with it?

Generates the corpus of ``tests/perf/scale.py`` (``--documents`` explanatory documents over 16
disciplines, about 2.4 KB each), builds it up to ``synth`` once (with worker processes, to save
time: the executor is in no recipe, so the rebuilds below reuse everything), then ``--edits`` times
appends one sentence to one document (a different discipline each time) and runs ``proda build
--until synth`` in a fresh process on one core (``--executor local``, ``-j 1``), as a user would.

Figures: ``rebuild_s`` (wall time of each rebuild, the process's start included), ``stages`` (each
stage's seconds and ``built`` records per rebuild: ingest, chunk and extract redo the edited
document only; every bench and synth shard runs again from its memo — see docs/scale.md), and
``noop_s`` (a rebuild with nothing to do, through the fast path). Absolute times on a shared
machine are noisy: compare runs of the same minutes.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path[:0] = [str(HERE.parents[2]), str(HERE.parents[1]), str(HERE.parent)]

from scale import DISCIPLINES, child_env, write_corpus  # noqa: E402


def build(root: Path, *args: str) -> tuple[float, dict]:
    """Wall seconds of ``proda build -C root ARGS --json`` in a fresh process, and its result."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "proda", "build", "-C", str(root), *args, "--json"],
                          capture_output=True, text=True, env=child_env())
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"proda build {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return seconds, json.loads(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=3000)
    parser.add_argument("--edits", type=int, default=3)
    args = parser.parse_args()
    from proda.project import init_project

    out: dict = {"documents": args.documents, "edits": args.edits, "rebuild_s": [], "stages": []}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "project"
        init_project(root)
        shutil.rmtree(root / "specs" / "corpus")
        write_corpus(root / "specs" / "corpus", args.documents)
        first, result = build(root, "--until", "synth", "--executor", "processes")
        out["first_build_s"] = round(first, 2)
        out["version"] = result["version"]
        for n in range(args.edits):
            folder = root / "specs" / "corpus" / DISCIPLINES[(3 + 5 * n) % len(DISCIPLINES)]
            target = sorted(folder.glob("*.md"))[n]
            with open(target, "a", encoding="utf-8") as fh:
                fh.write(f"\nWind causes the sand to move. Therefore the dune rises {n}.\n")
            seconds, result = build(root, "--until", "synth", "--executor", "local", "-j", "1")
            out["rebuild_s"].append(round(seconds, 2))
            out["stages"].append({s: {"seconds": c["seconds"], "built": c["built"]} for s, c in result["stages"].items()})
        seconds, result = build(root, "--until", "synth")
        out["noop_s"] = round(seconds, 3)
        out["noop_up_to_date"] = bool(result.get("up_to_date"))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
