"""``proda show``."""

from __future__ import annotations

import click

from .options import emit, json_option, project, project_option


@click.command()
@project_option
@click.argument("key")
@json_option
def show(project_dir, key, as_json):
    """Trace a record (item, dropped item, result, sample, concept, statement, chain, chunk,
    document) to its source text.

    \b
    Example:  proda show 3fa9c1d2
    """
    from ..report.trace import show as run_show

    emit(run_show(project(project_dir), key), as_json,
         lambda r: "\n\n".join(f"[{t['kind']} {t['key'][:12]}]\n{t['text']}" for t in r["trace"]))
