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

import click

from .options import emit, json_option


def _say(text: str) -> None:
    print(f"[demo] {text}", file=sys.stderr, flush=True)


@click.command()
@click.argument("directory", default="proda-demo", type=click.Path(file_okay=False))
@json_option
def demo(directory, as_json):
    """The whole loop on the example project, on CPU: build V1, test, debug, build V2, test, diff.

    \b
    Example:  proda demo /tmp/demo
    """
    from ..report.diff import render

    emit(run_demo(Path(directory)), as_json, lambda r: render(r) + f"\n  took {r['seconds']:.0f}s")


def run_demo(directory: Path) -> dict[str, Any]:
    from ..debugger.run import debug
    from ..engine.versions import tag
    from ..make import build
    from ..project import Project, init_project
    from ..report.diff import diff
    from ..score.runs import run_tests

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
