"""``proda init``."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("--example", is_flag=True, help="Copy the bundled 16-discipline example project.")
def init(directory, example):
    """Scaffold a project: specs/proda.toml, specs/corpus/, specs/patches/, dodo.py.

    \b
    Example:  proda init --example my-project
    """
    from ..project import init_project

    path = init_project(Path(directory), example=example)
    click.echo(f"initialised {path}" + (" with the example corpus" if example else ""), err=True)
