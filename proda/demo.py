"""``proda demo``: the whole ProDa loop on the example project, on CPU.

    init --example -> build (V1) -> tag v1 -> test -> debug -> build (V2) -> tag v2
    -> test --failed -> diff v1 v2

Expected cost on 2 cores: V1 build ~1-2 min (training dominates), debug ~10 s, V2 build ~30 s.
Prints the per-discipline table of the diff; returns the diff object plus ``seconds``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any


def _say(text: str) -> None:
    print(f"[demo] {text}", file=sys.stderr, flush=True)


def demo(directory: Path) -> dict[str, Any]:
    from .build import build
    from .debug import debug
    from .diff import diff
    from .history import tag
    from .project import Project
    from .scaffold import init_project
    from .testrun import run_tests

    started = time.perf_counter()
    if not (directory / "specs" / "proda.toml").exists():
        init_project(directory, example=True)
        _say(f"initialised the example project in {directory}")
    project = Project.at(directory)
    _say("building V1: ingest, chunk, extract, bench, synth, compile, test")
    v1 = build(project)
    tag(project, "v1", v1["version"])
    first = run_tests(project)
    _say(f"V1 accuracy: dev {first['accuracy']['dev']:.3f}, holdout {first['accuracy']['holdout']:.3f} "
         f"({first['failed']} failures)")
    diagnosis = debug(project)
    _say(f"debug: {diagnosis['failures']} dev failures -> {diagnosis['concept_gaps']} concept gaps, "
         f"{diagnosis['reasoning_deficits']} reasoning deficits -> {diagnosis['patch']} "
         f"({diagnosis['samples']} samples + {diagnosis['replay']} replay)")
    project = Project.at(directory)
    _say("building V2: only what the patch touches")
    v2 = build(project)
    for stage, counts in v2["stages"].items():
        _say(f"  {stage:<8} built {counts['built']:>5}  reused {counts['reused']:>5}")
    tag(project, "v2", v2["version"])
    retest = run_tests(project, failed=True)
    _say(f"test --failed on V2: {retest['passed']} of V1's {retest['selected']} failures now pass")
    result = diff(project, "v1", "v2")
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result
