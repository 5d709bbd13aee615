"""The ``proda`` command line: thin click commands over library functions.

Exit codes: 0 success · 1 a stage failed · 2 usage, config or input error · 3 the project lock is
held by another build, or the run was interrupted (see proda/errors.py). Errors print one message
that says what to fix, without a traceback. ``--json`` prints exactly one JSON object on stdout;
progress and logs go to stderr. Heavy libraries (torch, transformers, vllm) load only in the
commands that need them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .errors import ProdaError


def _emit(obj, as_json: bool, text=None) -> None:
    if as_json:
        click.echo(json.dumps(obj, sort_keys=True))
    else:
        click.echo(text(obj) if text else json.dumps(obj, indent=2, sort_keys=True))


class Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ProdaError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted; finished work is kept — rerun to resume", err=True)
            sys.exit(3)


project_option = click.option("-C", "--project", "project_dir", default=".", show_default=True,
                              type=click.Path(file_okay=False), help="Project folder (like make -C).")
json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
set_option = click.option("--set", "overrides", multiple=True, metavar="SECTION.KEY=VALUE",
                          help="Override a setting of specs/proda.toml for this run.")


def _project(project_dir: str, overrides=()):
    """The project a command works on: its own -C, else the group's (`proda -C DIR build`)."""
    from .project import Project

    if project_dir == ".":
        project_dir = click.get_current_context().find_root().meta.get("proda.project", ".")
    return Project.at(project_dir, tuple(overrides))


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-C", "--project", "project_dir", default=".", type=click.Path(file_okay=False),
              help="Project folder for any command (like make -C).")
@click.version_option(package_name="proda")
@click.pass_context
def main(ctx, project_dir):
    """proda — make for corpora and weights.

    The corpus is the spec, training data is the source, fine-tuning is the compiler, the
    checkpoint is the binary and the benchmark is the test suite.

    \b
    Example:
      proda init --example demo && cd demo
      proda build && proda tag v1 && proda test && proda debug && proda build
      proda diff v1 HEAD
    """
    ctx.meta["proda.project"] = project_dir


@main.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("--example", is_flag=True, help="Copy the bundled 16-discipline example project.")
def init(directory, example):
    """Scaffold a project: specs/proda.toml, specs/corpus/, specs/patches/, dodo.py.

    \b
    Example:  proda init --example my-project
    """
    from .scaffold import init_project

    path = init_project(Path(directory), example=example)
    click.echo(f"initialised {path}" + (" with the example corpus" if example else ""), err=True)


@main.command()
@project_option
@click.option("--until", metavar="STAGE", help="Stop after this stage (ingest chunk extract bench synth compile test).")
@click.option("-j", "--jobs", default=1, show_default=True, help="Tasks to run at once.")
@set_option
@json_option
def build(project_dir, until, jobs, overrides, as_json):
    """Bring build/ up to date; only stale items are recomputed.

    \b
    Example:  proda build --until extract -j 4
    """
    from .build import build as run_build

    result = run_build(_project(project_dir, overrides), until=until, jobs=jobs)
    _emit(result, as_json, _build_text)


def _build_text(result) -> str:
    lines = [f"version {result['version']}"]
    for name, s in result["stages"].items():
        lines.append(f"  {name:<8} built {s['built']:>6}  reused {s['reused']:>6}  {s['seconds']:>7.2f}s"
                     + (f"  skipped {s['skipped']} (retried next build)" if s.get("skipped") else ""))
    return "\n".join(lines)


@main.command()
@project_option
@set_option
@json_option
def status(project_dir, overrides, as_json):
    """What is stale and why (code, params, data, upstream), without building."""
    from .build import status as get_status

    result = get_status(_project(project_dir, overrides))

    def text(r):
        if r["up_to_date"]:
            return f"up to date (version {r['version']})"
        return "\n".join(f"{s['task']:<24} {s['reason']}" for s in r["stale"])

    _emit(result, as_json, text)


@main.command()
@project_option
@json_option
def stats(project_dir, as_json):
    """Counts of every artifact kind, per discipline, and the orphan count."""
    from .stats import render_table, stats as get_stats

    result = get_stats(_project(project_dir))
    if as_json:
        _emit(result, True)
    else:
        render_table(result)


@main.command()
@project_option
@json_option
def log(project_dir, as_json):
    """List build versions, newest first, with their tags."""
    from .history import log as get_log

    result = get_log(_project(project_dir))

    def text(r):
        return "\n".join(f"{v['id']}  {v['created']}  {' '.join(v['tags'])}" for v in r["versions"]) or "no versions yet"

    _emit(result, as_json, text)


@main.command()
@project_option
@click.argument("name")
@click.argument("version", required=False)
def tag(project_dir, name, version):
    """Name a version (default: the current one).

    \b
    Example:  proda tag v1
    """
    from .history import tag as set_tag

    vid = set_tag(_project(project_dir), name, version)
    click.echo(f"{name} -> {vid}", err=True)


def _register_loop_commands() -> None:
    """The loop's commands live in proda/commands.py (each a few lines over a library function)."""
    from . import commands

    for command in commands.ALL:
        main.add_command(command)


_register_loop_commands()
