"""The ``proda`` command line: the click group, its options, and ProdaError -> exit code.

Exit codes: 0 success · 1 a stage failed · 2 usage, config or input error · 3 the project lock is
held by another build, or the run was interrupted (see proda/errors.py). Errors print one message
that says what to fix, without a traceback. ``--json`` prints exactly one JSON object on stdout;
progress and logs go to stderr. Each verb lives in ``proda/commands/<verb>.py``; heavy libraries
(torch, transformers, vllm, duckdb) load only in the commands that need them.
"""

from __future__ import annotations

import contextlib
import sys

import click

from . import commands
from .errors import Interrupted, ProdaError


class Group(click.Group):
    def parse_args(self, ctx, args):
        ctx.meta["proda.argv"] = list(args)  # for an error under --json found while parsing them
        return super().parse_args(ctx, args)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except Interrupted as exc:
            _json_error(ctx, exc)
            _interrupted(f"error: {exc}")
        except ProdaError as exc:
            click.echo(f"error: {exc}", err=True)
            _json_error(ctx, exc)
            sys.exit(exc.exit_code)
        except click.UsageError as exc:  # a bad option or value, found before the command ran
            if "--json" in ctx.meta.get("proda.argv", ()):
                import json

                click.echo(json.dumps({"error": exc.format_message(), "hint": "see --help",
                                       "exit_code": exc.exit_code}))
            raise
        except KeyboardInterrupt:
            _interrupted("interrupted; finished work is kept — rerun to resume")


def _json_error(ctx, exc: ProdaError) -> None:
    """Under ``--json``, the error is the one JSON object on stdout as well (the message stays on
    stderr): a script reading stdout gets ``{"error", "hint", "exit_code"}``, never nothing."""
    if ctx.meta.get("proda.json"):
        import json

        click.echo(json.dumps({"error": exc.message, "hint": exc.hint, "exit_code": exc.exit_code}))


def _interrupted(message: str) -> None:
    """Ctrl-C: say so and exit 3 at once. Everything proda writes is atomic (temp + rename, memo
    frames, the catalog's log), so there is nothing to finish; a normal interpreter exit could
    instead abort (SIGABRT) in a native library thread that the interrupt left mid-call."""
    import os

    out = sys.__stderr__ or sys.stderr  # doit may still hold sys.stderr for the interrupted task
    print(message, file=out, flush=True)
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    os._exit(3)


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


for _command in commands.ALL:
    main.add_command(_command)
