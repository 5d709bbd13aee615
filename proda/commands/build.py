"""``proda build`` and ``proda status``."""

from __future__ import annotations

import click

from .options import emit, json_option, project, project_option, set_option


@click.command()
@project_option
@click.option("--until", metavar="STAGE", help="Stop after this stage (ingest chunk extract bench synth compile test).")
@click.option("-j", "--jobs", default=1, show_default=True, help="Tasks (stage shards) to run at once.")
@click.option("--executor", type=click.Choice(["local", "processes", "ray"]),
              help="Where each stage's units run (default: run.executor, local).")
@click.option("--address", metavar="A", help="Ray cluster to join (ray://head:10001 or auto); "
              "default: start a local one.")
@click.option("--verify", is_flag=True,
              help="Check every file under build/ against its hash first (slower than the no-op check).")
@set_option
@json_option
def build(project_dir, until, jobs, executor, address, verify, overrides, as_json):
    """Bring build/ up to date; only stale items are recomputed.

    \b
    Example:  proda build --until extract -j 4
              proda build --executor ray --address ray://head:10001
    """
    import json

    from ..make import build as run_build

    overrides = tuple(overrides)
    if executor:
        overrides += (f"run.executor={json.dumps(executor)}",)
    if address:
        overrides += (f"run.address={json.dumps(address)}",) + (() if executor else ('run.executor="ray"',))
    result = run_build(project(project_dir, overrides), until=until, jobs=jobs, verify=verify)
    emit(result, as_json, build_text)


def build_text(result) -> str:
    lines = [f"version {result['version']}"]
    for name, s in result["stages"].items():
        lines.append(f"  {name:<8} built {s['built']:>6}  reused {s['reused']:>6}  {s['seconds']:>7.2f}s"
                     + (f"  skipped {s['skipped']} (retried next build)" if s.get("skipped") else "")
                     + (f"  {s['damaged']} damaged memo entries recomputed" if s.get("damaged") else ""))
    summary = dropped_line(result.get("dropped") or {})
    if summary:
        lines.append(summary)
    if result.get("repaired"):
        lines.append(f"repaired {len(result['repaired'])} damaged file(s) under build/ (see the warnings above)")
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
    """What is stale and why (code, params, data, upstream), without building."""
    from ..make import status as get_status

    result = get_status(project(project_dir, overrides))

    def text(r):
        if r["up_to_date"]:
            return f"up to date (version {r['version']})"
        return "\n".join(f"{s['task']:<24} {s['reason']}" for s in r["stale"])

    emit(result, as_json, text)
