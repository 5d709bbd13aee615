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
    """Accuracy per version by split and discipline, chance, diagnoses; --html draws them.

    The text also shows each version's accuracy from the options alone (no question) and what
    the question adds, and the validity baselines with their intervals. The page has accuracy by
    split and by discipline (with the chance line), the repair by item
    group and the validity baselines when they exist, the training loss and the failures by
    diagnosis; it prints `wrote FILE` on stderr.

    \b
    Example:  proda report --html report.html
    """
    from ..report.html import render_text, report as run_report

    result = run_report(project(project_dir), Path(html_file) if html_file else None)
    emit(result, as_json, render_text)
    if html_file:
        click.echo(f"wrote {html_file}", err=True)
