"""What every command shares: the project it works on, its common options, how it prints."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ..project import Project


def emit(obj, as_json: bool, text=None) -> None:
    """``--json``: exactly one JSON object on stdout; otherwise ``text(obj)`` (or indented JSON)."""
    if as_json:
        click.echo(json.dumps(obj))
    else:
        click.echo(text(obj) if text else json.dumps(obj, indent=2))


project_option = click.option("-C", "--project", "project_dir", default=".", show_default=True,
                              type=click.Path(file_okay=False), help="Project folder (like make -C).")
def _remember_json(ctx, param, value):
    """Noted for the error handler: an error under --json is one JSON object on stdout too."""
    if value:
        ctx.find_root().meta["proda.json"] = True
    return value


json_option = click.option("--json", "as_json", is_flag=True, callback=_remember_json,
                           help="Print one JSON object on stdout (an error too: error, hint, exit_code).")
set_option = click.option("--set", "overrides", multiple=True, metavar="SECTION.KEY=VALUE",
                          help="Override a setting of specs/proda.toml for this run.")


def project(project_dir: str, overrides=()) -> "Project":
    """The project a command works on: its own -C, else the group's (`proda -C DIR build`)."""
    from ..project import Project

    if project_dir == ".":
        project_dir = click.get_current_context().find_root().meta.get("proda.project", ".")
    return Project.at(project_dir, tuple(overrides))


def under_project(directory: str, project_dir: str = ".") -> "Path":
    """A folder argument of a command that makes its own project (``init``, ``demo``), resolved
    like ``make -C``: relative to the command's -C, else the group's, else the current folder."""
    from pathlib import Path

    if project_dir == ".":
        project_dir = click.get_current_context().find_root().meta.get("proda.project", ".")
    return Path(project_dir) / directory
