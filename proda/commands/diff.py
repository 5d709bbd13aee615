"""``proda diff``."""

from __future__ import annotations

import click

from .options import emit, json_option, project, project_option


@click.command()
@project_option
@click.argument("a")
@click.argument("b", default="HEAD")
@json_option
def diff(project_dir, a, b, as_json):
    """Compare two versions (tags, ids or id prefixes; HEAD = the current build).

    \b
    Example:  proda diff v1 v2 --json
    """
    from ..report.diff import diff as run_diff, render

    emit(run_diff(project(project_dir), a, b), as_json, render)
