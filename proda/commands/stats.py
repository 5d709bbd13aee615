"""``proda stats``."""

from __future__ import annotations

import click

from .options import emit, json_option, project, project_option


@click.command()
@project_option
@click.option("--dropped", "list_dropped", is_flag=True,
              help="List every dropped document, skipped unit and dropped candidate item, with its reason "
                   "and key, then the reasons counted.")
@json_option
def stats(project_dir, list_dropped, as_json):
    """Counts of every artifact kind, per discipline, and the orphan count; then the validity
    baselines (option-only rules per split, with 95% intervals) when the benchmark has items.

    \b
    Example:  proda stats --dropped    # why each left-out document was left out
    """
    from ..report.stats import dropped, render_dropped, render_table, stats as get_stats

    if list_dropped:
        emit(dropped(project(project_dir)), as_json, render_dropped)
        return
    result = get_stats(project(project_dir))
    if as_json:
        emit(result, True)
    else:
        render_table(result)
