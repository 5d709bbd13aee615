"""``proda stats``."""

from __future__ import annotations

import click

from .options import emit, json_option, project, project_option


@click.command()
@project_option
@json_option
def stats(project_dir, as_json):
    """Counts of every artifact kind, per discipline, and the orphan count."""
    from ..report.stats import render_table, stats as get_stats

    result = get_stats(project(project_dir))
    if as_json:
        emit(result, True)
    else:
        render_table(result)
