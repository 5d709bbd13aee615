"""``proda demo``: the whole ProDa loop on the example project, on CPU, told as a short story.

    init --example -> build (V1) -> tag v1 -> test -> debug -> build (V2) -> tag v2
    -> test --failed -> diff v1 v2

As it runs it says, on stderr, what each step found: V1's accuracy against chance, what the
debugger diagnosed, what the patch holds and what the build dropped from it and why, what V2
rebuilt, and the repair by item group when ``proda diff`` measures it; then it prints the diff
table on stdout. All of it fits on one screen; ``-v`` adds each build's stage lines. Every phase
is timed (``phases`` in ``--json``; ``tests/perf/demo_time.py`` prints them). A folder that
already holds a finished demo is shown again, not rebuilt; ``--fresh`` starts it over.

``--seeds N`` repeats the loop with N training seeds (``compile.seed`` + 0..N-1): the project is built
up to synth once, copied to ``DIR-seed1`` ... before any training, and each copy runs V1 -> debug ->
V2 with its own seed (a folder a plain demo already took past synth is seed 0's run; its copies
leave out its build/ and patches); the result gains ``"seeds": {"seeds", "folders", "runs": [...], "summary": {G:
{"mean", "sd", "deltas", "p"}}}`` — the spread of each repair group's delta across seeds (one seed
proves nothing; docs/cli.md gives each key).
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import Any

import click

from .options import emit, json_option, project_option, under_project

MARKER = ".proda-demo"  # written into the folders the demo creates; --fresh resets only those


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


@click.command()
@click.argument("directory", default="proda-demo", type=click.Path(file_okay=False))
@click.option("--fresh", is_flag=True,
              help="Start over in a folder an earlier demo made (deletes its build/ and patches; with --seeds, its seed copies are made again).")
@click.option("-v", "--verbose", is_flag=True, help="Also print each build's stage lines.")
@click.option("--seeds", type=click.IntRange(min=1), default=1, show_default=True,
              help="Repeat the loop with this many training seeds; report mean and sd of each delta.")
@project_option
@json_option
def demo(directory, fresh, verbose, seeds, project_dir, as_json):
    """The whole loop on the example project, on CPU: build V1, test, debug, build V2, test, diff.

    DIRECTORY (default: proda-demo) is taken relative to -C, like make -C.

    \b
    Example:  proda demo /tmp/demo
              proda demo /tmp/demo --seeds 3   # the repair groups' spread over 3 training seeds
    """
    folder = under_project(directory, project_dir)
    if seeds == 1:
        result = run_demo(folder, fresh=fresh, verbose=verbose)
    else:
        result = run_seeds(folder, seeds, fresh=fresh, verbose=verbose)
    emit(result, as_json, lambda r: table(r) + _render_seeds(r))


class Clock:
    """Seconds per phase of the demo, and in all."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.phases: dict[str, float] = {}

    def __call__(self, phase: str, fn, *args, **kwargs):
        begun = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            self.phases[phase] = round(self.phases.get(phase, 0.0) + time.perf_counter() - begun, 1)

    def total(self) -> float:
        return round(time.perf_counter() - self.started, 1)


def run_demo(directory: Path, fresh: bool = False, verbose: bool = False, say=_say) -> dict[str, Any]:
    from ..project import Project, init_project
    from ..report.diff import diff

    clock = Clock()
    directory = directory.resolve()
    holds_project = (directory / "specs" / "proda.toml").exists()
    if holds_project and fresh:
        _reset(directory, say)
    if not holds_project:
        clock("init", init_project, directory, example=True)
        (directory / MARKER).write_text("made by `proda demo`; `proda demo --fresh DIR` starts it over\n")
        say(f"proda demo in {directory}: the example project, from scratch, on CPU")
    project = Project.at(directory)
    tags = _tags(project)
    if {"v1", "v2"} <= tags and not fresh:
        say(f"{directory} already holds a finished demo (v1 -> v2): showing it again, nothing is "
            f"rebuilt; `proda demo --fresh {directory}` runs it from scratch")
        result = clock("diff", diff, project, "v1", "v2")
        return {**result, "seconds": clock.total(), "phases": clock.phases}
    if holds_project and not fresh:
        _ours(directory)  # never another project: continuing writes a patch and tags into it
        from ..engine.outputs import read_manifest

        if tags or read_manifest(project.build, "compile", "all") is not None:  # a demo got this far before
            say(f"continuing the demo in {directory}: finished steps are reused")
        else:  # made just now (`--seeds`: a copy built up to synth)
            say(f"proda demo in {directory}: the example project, its data stages already built")
    return _Story(project, clock, verbose, say).run(resumed="v1" in tags)


def _tags(project) -> set[str]:
    from ..engine import layout
    from ..engine.catalog import open_catalog

    if not layout.catalog(project.build).exists():
        return set()
    with open_catalog(project, read_only=True) as cat:
        return {row[0] for row in cat.query("SELECT name FROM tags")}


def _ours(directory: Path) -> None:
    """Refuse a folder `proda demo` did not create (it continues, or with --fresh resets, only its own)."""
    from ..errors import UsageError

    if not (directory / MARKER).exists():
        raise UsageError(f"{directory} holds a project that `proda demo` did not create: the demo runs only "
                         "in its own folders (it writes a patch, tags and with --fresh deletes build/)",
                         "give the demo another folder, or run the loop yourself: "
                         "proda build && proda tag v1 && proda test && proda debug && proda build")


def _reset(directory: Path, say) -> None:
    _ours(directory)
    say(f"starting over in {directory}: its build/ and specs/patches/*.jsonl are deleted")
    shutil.rmtree(directory / "build", ignore_errors=True)
    for patch in (directory / "specs" / "patches").glob("*.jsonl"):
        patch.unlink()


class _Story:
    def __init__(self, project, clock: Clock, verbose: bool, say):
        self.project, self.clock, self.verbose, self.say = project, clock, verbose, say

    def _build(self, phase: str) -> dict[str, Any]:
        from ..make import build
        from ..project import Project

        self.project = Project.at(self.project.root)  # a fresh view: new patch files, new manifests
        return self.clock(phase, build, self.project, quiet=not self.verbose)

    def run(self, resumed: bool) -> dict[str, Any]:
        from ..debugger.run import debug
        from ..engine.outputs import read_manifest
        from ..engine.versions import tag
        from ..report.diff import diff
        from ..report.stats import stats
        from ..score.runs import run_tests

        v1 = self._build("build_v1")
        if not resumed:
            tag(self.project, "v1", v1["version"])
        first = self.clock("test_v1", run_tests, self.project)
        for line in v1_lines(stats(self.project), v1, first, chance(self.project), self.clock.phases["build_v1"]):
            self.say(line)
        diagnosis = None
        if resumed and self.project.patch_files():
            self.say("debug: the earlier run's patch is in specs/patches/: not diagnosed again")
        else:
            diagnosis = self.clock("debug", debug, self.project)
            for line in debug_lines(diagnosis):
                self.say(line)
        v2 = self._build("build_v2")
        dropped = (read_manifest(self.project.build, "synth", "patches") or {}).get("extra", {}).get("contaminated", 0)
        for line in v2_lines(v2, diagnosis, dropped, self.clock.phases["build_v2"]):
            self.say(line)
        tag(self.project, "v2", v2["version"])
        retest = self.clock("test_v2", run_tests, self.project, failed=True)
        result = self.clock("diff", diff, self.project, "v1", "v2")
        for line in outcome_lines(result, retest):
            self.say(line)
        result["seconds"] = self.clock.total()
        result["phases"] = self.clock.phases
        return result


# -- the story's lines: pure functions of what each step returned (tests check them) -------------


def chance(project) -> float:
    """Accuracy of a uniform guess: the mean of 1/options over the benchmark's items."""
    from ..engine.outputs import items

    found = items(project)
    return sum(1 / len(i.options) for i in found) / len(found) if found else 0.0


def v1_lines(counts: dict[str, Any], v1: dict[str, Any], test: dict[str, Any], guess: float,
             seconds: float) -> list[str]:
    checkpoints = v1["stages"]["compile"]["built"] + v1["stages"]["compile"]["reused"]
    acc = test["accuracy"]
    return [f"V1    built in {seconds:.0f}s from {counts['documents']} documents: {counts['chunks']} chunks; "
            f"{counts['chains']} chains, {counts['statements']} statements, {counts['concepts']} concepts",
            f"      -> {counts['items']} benchmark items and {counts['samples']} training samples -> "
            f"{checkpoints} checkpoint",
            f"V1    accuracy: dev {acc['dev']:.3f}, holdout {acc['holdout']:.3f} (chance {guess:.3f}); "
            f"{test['failed']} of {test['passed'] + test['failed']} items failed"]


def debug_lines(d: dict[str, Any]) -> list[str]:
    other = d["failures"] - d["concept_gaps"] - d["reasoning_deficits"]
    lines = [f"debug {d['failures']} failed dev items" + (f", {other} of them undetermined" if other else "")
             + " (the holdout split is never looked at):",
             f"      {d['concept_gaps']} concept gaps (a concept missing or confused), "
             f"{d['reasoning_deficits']} reasoning deficits (parts not composed)"]
    if d.get("patch"):
        lines.append(f"patch {d['patch']}: {d['samples']} targeted samples, {d['replay']} replay samples of V1")
    dropped = {k: n for k, n in (d.get("dropped") or {}).items() if n}
    if dropped:
        kind = {"stem": "stems", "run": "13-word runs", "whole": "whole items"}
        lines.append(f"      {sum(dropped.values())} dropped before writing, repeating benchmark text: "
                     + ", ".join(f"{n} {kind.get(k, k)}" for k, n in dropped.items()))
    return lines


def v2_lines(v2: dict[str, Any], d: dict[str, Any] | None, dropped: int, seconds: float) -> list[str]:
    stages, tasks = v2["stages"], v2.get("tasks", {})
    ran = [s for s in stages if any(t.split(":")[0] == s for t in tasks)]
    untouched = [s for s in stages if s not in ran]
    lines = [f"V2    built in {seconds:.0f}s: ran {', '.join(ran) or 'nothing'}"
             + (f"; reused {', '.join(untouched)} (untouched)" if untouched else "")]
    synth, from_patch = stages["synth"]["built"], tasks.get("synth:patches", {}).get("built", 0)
    if d is not None and d.get("patch"):
        total = d["samples"] + d["replay"]
        lines.append(f"      synth built {synth} new samples from the patch's {total}: "
                     f"{total - dropped - from_patch} are V1's own (replay)")
        if dropped:
            lines[-1] += ", and"
            lines.append(f"      {dropped} were dropped: they share a 13-word run with a benchmark item")
    else:
        lines.append(f"      synth built {synth} new samples"
                     + (f"; {dropped} patch samples dropped (a 13-word run shared with an item)" if dropped else ""))
    if synth > from_patch:
        lines.append(f"      and {synth - from_patch} new samples in the discipline shards (their budgets moved)")
    c, t = stages["compile"], stages["test"]
    lines.append(f"      compile built {c['built']} checkpoint{'s' if c['built'] != 1 else ''} (training went on from "
                 f"V1's, {c['reused']} reused); test built {t['built']} results")
    return lines


def outcome_lines(result: dict[str, Any], retest: dict[str, Any]) -> list[str]:
    fa, ta = result["accuracy"]["from"], result["accuracy"]["to"]

    def change(split: str) -> str:
        return f"{ta.get(split, 0.0):.3f} ({100 * (ta.get(split, 0.0) - fa.get(split, 0.0)):+.1f} pts)"

    lines = [f"V2    accuracy: dev {change('dev')}, holdout {change('holdout')}; "
             f"{retest['passed']} of V1's {retest['selected']} failures pass"]
    if result.get("groups"):
        from ..report.diff import render_groups

        lines.append("repair by item group, V1 -> V2 (paired bootstrap 95% interval, McNemar p):")
        lines += render_groups(result)
    return lines


def table(result: dict[str, Any]) -> str:
    """The diff of V1 -> V2 on one screen: changed records, fixed/broken, accuracy side by side."""
    changed = [f"{k} +{result['added'][k]} -{result['removed'][k]}" for k in result["added"]
               if result["added"][k] or result["removed"][k]]
    r = result["results"]
    fa, ta = result["accuracy"]["from"], result["accuracy"]["to"]
    # one line for what changed, the results and the time (the story must fit on one screen)
    lines = [f"diff {result['from']} -> {result['to']}: " + ("; ".join(changed) or "records unchanged")
             + f"; fixed {r['fixed']}, broken {r['broken']}; {result['seconds']:.0f}s in all"]
    rows = [(s, fa.get(s, 0.0), ta.get(s, 0.0)) for s in ("all", "dev", "holdout")]
    rows += [(d, fa.get("by_discipline", {}).get(d, 0.0), ta.get("by_discipline", {}).get(d, 0.0))
             for d in sorted(set(fa.get("by_discipline", {})) | set(ta.get("by_discipline", {})))]
    if fa or ta:
        width = max(len(n) for n, _, _ in rows) + 1
        head = f"{'accuracy':<{width}}{'v1':>6} {'v2':>6}"
        lines.append(f"  {head}    {head}")
        half = (len(rows) + 1) // 2
        for i in range(half):
            cells = [f"{n:<{width}}{a:>6.3f} {b:>6.3f}" for n, a, b in rows[i::half]]
            lines.append("  " + "    ".join(cells))
    return "\n".join(lines)


def run_seeds(directory: Path, seeds: int, fresh: bool = False, verbose: bool = False) -> dict[str, Any]:
    """The demo once per training seed; the first seed's diff, plus ``seeds`` (runs and summary).
    A seed's folder left by an earlier run is continued (a finished one shown again) unless ``fresh``:
    then the folder is reset and every seed copy made anew."""
    import statistics

    from ..make import build
    from ..project import Project, init_project

    started = time.perf_counter()
    if fresh and (directory / "specs" / "proda.toml").exists():
        _reset(directory, _say)
    if not (directory / "specs" / "proda.toml").exists():
        init_project(directory, example=True)
        (directory / MARKER).write_text("made by `proda demo`; `proda demo --fresh DIR` starts it over\n")
    project = Project.at(directory)
    base = project.config.compile.seed
    _say(f"building up to synth once; then {seeds} training seeds from {base}")
    build(project, until="synth", quiet=True)
    trained = _past_synth(project)
    folders = [directory]
    for s in range(1, seeds):
        copy = directory.with_name(f"{directory.name}-seed{s}")
        if fresh and copy.exists():  # made again from the reset folder, with its seed
            _ours(copy)
            _say(f"starting over in {copy}: deleted, copied again")
            shutil.rmtree(copy)
        if not copy.exists():
            _seed_copy(directory, copy, base + s, trained)
        folders.append(copy)
    runs = []
    for s, folder in enumerate(folders):
        _say(f"seed {base + s}: {folder}")
        runs.append(run_demo(folder, verbose=verbose))
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


def _past_synth(project) -> bool:
    """Whether a demo took this folder past synth (trained, tagged or patched: `proda demo DIR`
    before `proda demo DIR --seeds N`)."""
    return bool(_tags(project)) or any((project.root / "specs" / "patches").glob("*.jsonl")) \
        or (project.build / "compile").exists()


def _seed_copy(directory: Path, copy: Path, seed: int, trained: bool) -> None:
    """A seed's folder: ``directory`` copied with ``compile.seed = seed``, built up to synth. A
    folder past synth (``trained``) is seed 0's run: its copy would be that run again, so the copy
    leaves out its build/ and its patches and builds the data stages itself."""
    from ..make import build
    from ..project import Project

    locks = shutil.ignore_patterns("*.lock")

    def ignore(folder, names):
        left = set(locks(folder, names))
        if trained and Path(folder) == directory:
            left.add("build")
        if trained and Path(folder) == directory / "specs" / "patches":
            left.update(n for n in names if n.endswith(".jsonl"))
        return left

    shutil.copytree(directory, copy, ignore=ignore)
    _set_seed(copy / "specs" / "proda.toml", seed)
    if trained:
        build(Project.at(copy), until="synth", quiet=True)


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
