"""``proda log`` and ``proda tag``."""

from __future__ import annotations

import click

from .options import emit, json_option, project, project_option


@click.command()
@project_option
@json_option
def log(project_dir, as_json):
    """List build versions, newest first, with their tags.

    \b
    Example:  proda log
              proda tag v1 && proda log --json
    """
    from ..engine.versions import log as get_log

    result = get_log(project(project_dir))

    def text(r):
        return "\n".join(f"{v['id']}  {v['created']}  {' '.join(v['tags'])}" for v in r["versions"]) or "no versions yet"

    emit(result, as_json, text)


@click.command()
@project_option
@click.argument("name")
@click.argument("version", required=False)
def tag(project_dir, name, version):
    """Name a version (default: the current one).

    \b
    Example:  proda tag v1
    """
    from ..engine.versions import tag as set_tag

    vid = set_tag(project(project_dir), name, version)
    click.echo(f"{name} -> {vid}", err=True)
