"""``proda build`` and ``proda status``."""

from __future__ import annotations

import click

from .options import emit, json_option, project, project_option, set_option


@click.command()
@project_option
@click.option("--until", metavar="STAGE", help="Stop after this stage (ingest chunk extract bench synth compile test).")
@click.option("-j", "--jobs", default=1, show_default=True, type=click.IntRange(min=1),
              help="Tasks (stage shards) to run at once. With --executor processes and N at least "
              "the number of workers, each task of ingest, chunk, (heuristic) extract, bench and "
              "synth runs whole on a worker.")
@click.option("--executor", type=click.Choice(["local", "processes", "ray"]),
              help="Where each stage's units run (default: run.executor, local).")
@click.option("--address", metavar="A", help="Ray cluster to join (ray://head:10001 or auto); "
              "default: start a local one.")
@click.option("--verify", is_flag=True,
              help="Check every file under build/ against its hash first (slower than the no-op check).")
@click.option("-v", "--verbose", is_flag=True, help="Also print one line per task (stage:shard) that ran.")
@set_option
@json_option
def build(project_dir, until, jobs, executor, address, verify, verbose, overrides, as_json):
    """Bring build/ up to date; only stale items are recomputed.

    Prints one line per stage on stderr as it finishes (built = records new to this build,
    reused = the rest of its output, seconds; "(N of them made earlier)" when built records came
    back rather than being computed), then the version.

    \b
    Example:  proda build --until extract -j 4
              proda build --executor ray --address ray://head:10001
    """
    import json

    from ..make import build as run_build, stage_line

    overrides = tuple(overrides)
    if executor:
        overrides += (f"run.executor={json.dumps(executor)}",)
    if address:
        if executor and executor != "ray":
            raise click.UsageError(f"--address names a Ray cluster: it goes with --executor ray (or no --executor), "
                                   f"not --executor {executor}")
        overrides += (f"run.address={json.dumps(address)}",) + (() if executor else ('run.executor="ray"',))
    proj = project(project_dir, overrides)
    result = run_build(proj, until=until, jobs=jobs, verify=verify, verbose=verbose)
    result["unread"] = [{"path": path, "why": why} for path, why in proj.unread_specs()]
    if result.get("up_to_date"):  # answered without running doit: no stage lines were printed
        for name, counts in result["stages"].items():
            click.echo(stage_line(name, counts), err=True)
    emit(result, as_json, build_text)


UNTESTED_SHOWN = 4  # disciplines named on the "no benchmark item in" line (all of them: --json)


def build_text(result) -> str:
    """The version (the stage lines went to stderr as the stages finished), and what was left out."""
    lines = [f"version {result['version'] or '(none: nothing was built)'}" + (" (up to date)" if result.get("up_to_date") else "")]
    kept = (result.get("dropped") or {}).get("kept_items")
    if kept is not None:  # bench's `built` counts the dropped candidates too
        lines.append(f"benchmark: {sum(kept.values())} items (dev {kept.get('dev', 0)}, holdout "
                     f"{kept.get('holdout', 0)}); {result['dropped']['items']} candidate item(s) dropped"
                     + (" — why: proda stats --dropped" if result["dropped"]["items"] else ""))
    untested = (result.get("dropped") or {}).get("untested")
    if untested:  # the loop cannot measure (nor repair) what no item tests
        named = [f"{d} ({' and '.join(splits)})" for d, splits in sorted(untested.items())]
        where = ", ".join(named[:UNTESTED_SHOWN]) + (f" and {len(named) - UNTESTED_SHOWN} more discipline(s)"
                                                     if len(named) > UNTESTED_SHOWN else "")
        lines.append(f"no benchmark item in: {where} — the loop cannot test them there; why their candidates "
                     "were dropped: proda stats --dropped (more text, or an LLM extractor: docs/backends.md)")
    summary = dropped_line(result.get("dropped") or {})
    if summary:
        lines.append(summary)
    if result.get("repaired"):
        lines.append(f"repaired {len(result['repaired'])} damaged file(s) under build/ (see the warnings above)")
    for entry in result.get("unread", []):  # what the user put under specs/ and no stage reads
        lines.append(f"not read: {entry['path']}: {entry['why']}")
    return "\n".join(lines)


def dropped_line(dropped) -> str:
    """One line: what the build left out, and the command that lists it."""
    parts = []
    if dropped.get("documents"):
        why = ", ".join(f"{n} {reason}" for reason, n in dropped.get("reasons", {}).items())
        parts.append(f"dropped {dropped['documents']} document(s) ({why})")
    if dropped.get("skipped_units"):
        parts.append(f"skipped {dropped['skipped_units']} unit(s)")
    return " and ".join(parts) + " — list them: proda stats --dropped" if parts else ""


@click.command()
@project_option
@set_option
@json_option
def status(project_dir, overrides, as_json):
    """What is stale and why, without building: missing, data, upstream, params, code, backend,
    removed, damaged, changed, incomplete, failed (its last run failed) or moved (the project was
    copied or moved since build/ was made).

    \b
    Example:  proda status
              proda status --json | jq '.stale[] | .stage'
    """
    from ..make import status as get_status

    proj = project(project_dir, overrides)
    result = get_status(proj)
    result["unread"] = [{"path": path, "why": why} for path, why in proj.unread_specs()]

    def text(r):
        lines = [f"up to date (version {r['version']})"] if r["up_to_date"] else \
            [f"{task:<24} {reason}" for task, reason in condensed(r["stale"])]
        return "\n".join(lines + [f"not read: {u['path']}: {u['why']}" for u in r["unread"]])

    emit(result, as_json, text)


def _shards(names: list[str]) -> str:
    """``stage:a, stage:b, ...`` with a stage's many shards said once: ``bench (16 shards)``."""
    by_stage: dict[str, list[str]] = {}
    for name in names:
        by_stage.setdefault(name.split(":", 1)[0], []).append(name)
    out = []
    for stage, tasks in by_stage.items():
        out += tasks if len(tasks) <= 3 else [f"{stage} ({len(tasks)} shards)"]
    return ", ".join(out)


def condensed(stale: list[dict[str, str]]) -> list[tuple[str, str]]:
    """Status lines for a reader: upstream lists name a stage's many shards once, and the shards of a
    stage that are stale for the same reasons share one line (``--json`` keeps every task)."""
    import re

    def short(reason: str) -> str:
        m = re.fullmatch(r"upstream: (.*) will rebuild", reason)
        return f"upstream: {_shards(m.group(1).split(', '))} will rebuild" if m else reason

    lines: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    reasons: dict[str, list[str]] = {}
    for s in stale:
        reasons.setdefault(s["task"], []).append(short(s["reason"]))
    for task, why in reasons.items():
        stage = task.split(":", 1)[0]
        lines.setdefault((stage, tuple(why)), []).append(task)
    out = []
    for (stage, why), tasks in lines.items():
        if len(tasks) <= 2:
            out += [(t, w) for t in tasks for w in why]
        else:
            out += [(f"{stage} ({len(tasks)} shards)", w) for w in why]
    return out
