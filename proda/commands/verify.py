"""``proda verify``."""

from __future__ import annotations

import sys

import click

from .options import emit, json_option, project, project_option


@click.command()
@project_option
@click.option("--repair", is_flag=True,
              help="Move what fails aside and build, which rebuilds it (same as `proda build --verify`).")
@json_option
def verify(project_dir, repair, as_json):
    """Check everything under build/ against its hash: objects, memo journal frames, manifests,
    checkpoints, recorded versions, the doit state and the catalog (like `git fsck`).

    Exits 1 when something fails its check (without --repair).

    \b
    Example:  proda verify || proda verify --repair
    """
    proj = project(project_dir)
    if repair:
        from ..make import build

        result = build(proj, verify=True)
        result["ok"] = True
        emit(result, as_json, lambda r: (f"repaired {len(r.get('repaired', []))} problem(s); "
                                         f"version {r['version']}"))
        return
    from ..engine import integrity, lock

    with lock.hold(proj):
        result = integrity.verify(proj, repair=False)
    result["problems"] = [p.as_dict() for p in result["problems"]]

    def text(r):
        checked = ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in r["checked"].items())
        if r["ok"]:
            return f"ok: checked {checked}"
        return "\n".join(f"{p['path']}: {p['problem']}" for p in r["problems"]) + (
            f"\n{len(r['problems'])} problem(s); `proda verify --repair` moves them aside and rebuilds")

    emit(result, as_json, text)
    if not result["ok"]:
        sys.exit(1)
