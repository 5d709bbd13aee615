"""``proda demo``: the whole ProDa loop on the example project, on CPU.

    init --example -> build (V1) -> tag v1 -> test -> debug -> build (V2) -> tag v2
    -> test --failed -> diff v1 v2

Expected cost on 2 cores: V1 build ~1-2 min (training dominates), debug ~10 s, V2 build ~30 s.
Prints the per-discipline table of the diff; returns the diff object plus ``seconds``.

``--seeds N`` repeats the loop with N training seeds (``compile.seed`` + 0..N-1): the project is built
up to synth once, copied to ``DIR-seed1`` ... before any training, and each copy runs V1 -> debug ->
V2 with its own seed; the result gains ``"seeds": {"runs": [...], "summary": {G: {"mean", "sd",
"deltas"}}}`` — the spread of each repair group's delta across seeds (one seed proves nothing).
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
@click.option("--seeds", type=click.IntRange(min=1), default=1, show_default=True,
              help="Repeat the loop with this many training seeds; report mean and sd of each delta.")
@json_option
def demo(directory, seeds, as_json):
    """The whole loop on the example project, on CPU: build V1, test, debug, build V2, test, diff.

    \b
    Example:  proda demo /tmp/demo
              proda demo /tmp/demo --seeds 3   # the repair groups' spread over 3 training seeds
    """
    from ..report.diff import render

    result = run_demo(Path(directory)) if seeds == 1 else run_seeds(Path(directory), seeds)
    emit(result, as_json, lambda r: render(r) + _render_seeds(r) + f"\n  took {r['seconds']:.0f}s")


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
         f"{diagnosis['undetermined']} undetermined, "
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


def run_seeds(directory: Path, seeds: int) -> dict[str, Any]:
    """The demo once per training seed; the first seed's diff, plus ``seeds`` (runs and summary)."""
    import shutil
    import statistics

    from ..make import build
    from ..project import Project, init_project

    started = time.perf_counter()
    if not (directory / "specs" / "proda.toml").exists():
        init_project(directory, example=True)
    project = Project.at(directory)
    base = project.config.compile.seed
    _say(f"building up to synth once; then {seeds} training seeds from {base}")
    build(project, until="synth")
    folders = [directory]
    for s in range(1, seeds):
        copy = directory.with_name(f"{directory.name}-seed{s}")
        if not copy.exists():
            shutil.copytree(directory, copy, ignore=shutil.ignore_patterns("*.lock"))
            _set_seed(copy / "specs" / "proda.toml", base + s)
        folders.append(copy)
    runs = []
    for s, folder in enumerate(folders):
        _say(f"seed {base + s}: {folder}")
        runs.append(run_demo(folder))
    summary = {}
    for g in runs[0].get("groups", {}):
        deltas = [r["groups"][g]["delta"] for r in runs]
        summary[g] = {"mean": round(statistics.fmean(deltas), 4),
                      "sd": round(statistics.stdev(deltas), 4) if len(deltas) > 1 else 0.0,
                      "deltas": deltas, "p": [r["groups"][g]["p"] for r in runs]}
    out = dict(runs[0])
    out["seeds"] = {"seeds": [base + s for s in range(seeds)], "folders": [str(f) for f in folders],
                    "summary": summary,
                    "runs": [{k: r[k] for k in ("from", "to", "accuracy", "groups", "repair") if k in r}
                             for r in runs]}
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out


def _set_seed(toml: Path, seed: int) -> None:
    """Write ``compile.seed = seed`` into a copy's specs/proda.toml (its other settings kept)."""
    import re

    text = toml.read_text(encoding="utf-8")
    section = re.search(r"(?ms)^\[compile\][^\n]*\n(.*?)(?=^\[|\Z)", text)
    if section is None:
        text = text.rstrip("\n") + f"\n\n[compile]\nseed = {seed}\n"
    elif re.search(r"(?m)^seed\s*=.*$", section.group(1)):
        body = re.sub(r"(?m)^seed\s*=.*$", f"seed = {seed}", section.group(1), count=1)
        text = text[:section.start(1)] + body + text[section.end(1):]
    else:
        text = text[:section.start(1)] + f"seed = {seed}\n" + text[section.start(1):]
    toml.write_text(text, encoding="utf-8")


def _render_seeds(result: dict[str, Any]) -> str:
    seeds = result.get("seeds")
    if not seeds:
        return ""
    lines = [f"\n  over seeds {seeds['seeds']}: delta mean ± sd"]
    for g, s in seeds["summary"].items():
        lines.append(f"  {g:<22} {s['mean']:+.3f} ± {s['sd']:.3f}   ({', '.join(f'{d:+.3f}' for d in s['deltas'])})")
    return "\n".join(lines)
