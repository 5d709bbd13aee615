"""``proda report``."""

from __future__ import annotations

from pathlib import Path

import click

from .options import emit, json_option, project, project_option


@click.command()
@project_option
@click.option("--html", "html_file", type=click.Path(dir_okay=False), help="Write an HTML report with plots.")
@json_option
def report(project_dir, html_file, as_json):
    """Per-discipline accuracy per version; --html adds V1 vs V2, loss curves, failure types.

    \b
    Example:  proda report --html report.html
    """
    from ..report.html import render_text, report as run_report

    result = run_report(project(project_dir), Path(html_file) if html_file else None)
    emit(result, as_json, render_text)
