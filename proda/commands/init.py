"""``proda init``."""

from __future__ import annotations

import click

from .options import project_option, under_project


@click.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("--example", is_flag=True, help="Copy the bundled 16-discipline example project.")
@project_option
def init(directory, example, project_dir):
    """Scaffold a project: specs/proda.toml, specs/corpus/, specs/patches/, dodo.py.

    DIRECTORY (default: the current folder) is taken relative to -C, like make -C.

    \b
    Example:  proda init --example my-project
              proda -C ~/work init physics      # makes ~/work/physics
    """
    from ..project import init_project

    path = init_project(under_project(directory, project_dir), example=example)
    click.echo(f"initialised {path}" + (" with the example corpus" if example else ""), err=True)
