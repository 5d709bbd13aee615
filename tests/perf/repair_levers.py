"""What each repair lever does: V1 → debug → V2 repeated from the same V1 checkpoints with one
setting changed, the repair groups of each arm side by side. One JSON line.

Run: ``python tests/perf/repair_levers.py DIR [DIR ...] --arm NAME [SECTION.KEY=VALUE ...] ...``
where each DIR is a project after ``proda demo`` (V1 tagged ``v1``; seeds: ``proda demo --seeds``),
e.g. ``--arm base --arm positive debug.lessons=positive --arm epochs3 compile.patch_epochs=3``.

Each arm works in a copy of each DIR (``DIR-lever-NAME``): the demo's patch is removed and the
build brought back to V1 (nothing retrains: V1's checkpoint and results are reused), then
``proda debug`` and ``proda build`` run with the arm's settings, and ``diff v1 HEAD`` gives the
groups. Per arm: each group's delta per seed, mean and sd, and the dev_failed-vs-churn difference.
Levers that change V1 itself (a larger model, more base epochs) need their own ``proda demo``
with those settings instead.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from proda.debugger.run import debug  # noqa: E402
from proda.engine.versions import tag  # noqa: E402
from proda.make import build  # noqa: E402
from proda.project import Project  # noqa: E402
from proda.report.diff import diff  # noqa: E402


def run_arm(source: Path, name: str, settings: tuple[str, ...]) -> dict:
    folder = source.with_name(f"{source.name}-lever-{name}")
    if not folder.exists():
        shutil.copytree(source, folder)
        for p in (folder / "specs" / "patches").glob("*.jsonl"):
            p.unlink()
    started = time.perf_counter()
    project = Project.at(folder, settings)
    build(project)  # back to V1: the patch is gone, V1's checkpoint and results are reused
    report = debug(project)
    build(Project.at(folder, settings))
    tag(Project.at(folder, settings), f"lever-{name}")
    result = diff(Project.at(folder, settings), "v1", f"lever-{name}")
    return {"folder": str(folder), "groups": result["groups"], "repair": result["repair"],
            "debug": {k: report[k] for k in ("failures", "concept_gaps", "reasoning_deficits", "undetermined",
                                             "samples", "replay", "base_rate")},
            "seconds": round(time.perf_counter() - started, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("projects", nargs="+", type=Path)
    ap.add_argument("--arm", nargs="+", action="append", required=True, metavar=("NAME", "SETTING"))
    args = ap.parse_args()
    out = {}
    for name, *settings in args.arm:
        runs = [run_arm(p, name, tuple(settings)) for p in args.projects]
        summary = {}
        for g in runs[0]["groups"]:
            deltas = [r["groups"][g]["delta"] for r in runs]
            summary[g] = {"mean": round(statistics.fmean(deltas), 4),
                          "sd": round(statistics.stdev(deltas), 4) if len(deltas) > 1 else 0.0, "deltas": deltas}
        repair = [r["repair"]["delta"] for r in runs]
        summary["repair_vs_churn"] = {"mean": round(statistics.fmean(repair), 4), "deltas": repair}
        out[name] = {"settings": settings, "summary": summary, "runs": runs}
        print(json.dumps({name: out[name]["summary"]}), file=sys.stderr, flush=True)
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
