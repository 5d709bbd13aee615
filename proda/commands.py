"""The loop's commands — test, debug, diff, show, report, export, demo — each a few lines over
one library function. Registered on the ``proda`` group by proda/cli.py."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .cli import _emit, _project, json_option, project_option, set_option


@click.command("test")
@project_option
@click.option("--failed", is_flag=True, help="Only the items that failed in the last test run.")
@click.option("--split", type=click.Choice(["dev", "holdout", "all"]), default="all", show_default=True)
@click.option("--discipline", metavar="D", help="Only this discipline.")
@click.option("--fail-under", type=float, metavar="X", help="Exit 1 when accuracy is below X (0-1).")
@set_option
@json_option
def test_cmd(project_dir, failed, split, discipline, fail_under, overrides, as_json):
    """Score the benchmark against the current checkpoint (results are reused per checkpoint).

    \b
    Example:  proda test --failed --json
    """
    from .testrun import run_tests

    result = run_tests(_project(project_dir, overrides), failed=failed, split=split, discipline=discipline)

    def text(r):
        a = r["accuracy"]
        return (f"checkpoint {r['checkpoint']}: {r['passed']}/{r['passed'] + r['failed']} passed "
                f"(ran {r['ran']}, reused {r['reused']}) — accuracy all {a['all']:.3f} "
                f"dev {a['dev']:.3f} holdout {a['holdout']:.3f}")

    _emit(result, as_json, text)
    if fail_under is not None and result["accuracy"]["all"] < fail_under:
        sys.exit(1)


@click.command()
@project_option
@set_option
@json_option
def debug(project_dir, overrides, as_json):
    """Diagnose the dev split's failures and write a patch under specs/patches/.

    \b
    Example:  proda debug && proda build   # V2: recompiles only what the patch touches
    """
    from .debug import debug as run_debug

    result = run_debug(_project(project_dir, overrides))
    _emit(result, as_json, lambda r: (
        f"{r['failures']} failures: {r['concept_gaps']} concept gaps, {r['reasoning_deficits']} "
        f"reasoning deficits -> {r['patch']} ({r['samples']} samples)"))


@click.command()
@project_option
@click.argument("a")
@click.argument("b", default="HEAD")
@json_option
def diff(project_dir, a, b, as_json):
    """Compare two versions (tags, ids or id prefixes; HEAD = the current build).

    \b
    Example:  proda diff v1 v2 --json
    """
    from .diff import diff as run_diff, render

    _emit(run_diff(_project(project_dir), a, b), as_json, render)


@click.command()
@project_option
@click.argument("key")
@json_option
def show(project_dir, key, as_json):
    """Trace a record (item, result, sample, concept, statement, chain, chunk) to its source text.

    \b
    Example:  proda show 3fa9c1d2
    """
    from .show import show as run_show

    _emit(run_show(_project(project_dir), key), as_json,
          lambda r: "\n\n".join(f"[{t['kind']} {t['key'][:12]}]\n{t['text']}" for t in r["trace"]))


@click.command()
@project_option
@click.option("--html", "html_file", type=click.Path(dir_okay=False), help="Write an HTML report with plots.")
@json_option
def report(project_dir, html_file, as_json):
    """Per-discipline accuracy per version; --html adds V1 vs V2, loss curves, failure types.

    \b
    Example:  proda report --html report.html
    """
    from .report import report as run_report, render_text

    result = run_report(_project(project_dir), Path(html_file) if html_file else None)
    _emit(result, as_json, render_text)


@click.command()
@project_option
@click.option("--format", "fmt", type=click.Choice(["chat-jsonl", "hf", "lm-eval"]), required=True)
@click.argument("out", type=click.Path())
def export(project_dir, fmt, out):
    """Hand training data, the benchmark and checkpoints to other tools.

    \b
    chat-jsonl  OpenAI messages, one sample per line (TRL, LLaMA-Factory, axolotl)
    hf          Hugging Face datasets layout (Parquet): train = samples, test = items
    lm-eval     an lm-evaluation-harness task folder (YAML + data) for `lm_eval --tasks proda`
    \b
    Example:  proda export --format lm-eval tasks/ && lm_eval --include_path tasks --tasks proda ...
    """
    from .exporting import export_project

    path = export_project(_project(project_dir), fmt, Path(out))
    click.echo(f"wrote {path}", err=True)


@click.command()
@click.argument("directory", default="proda-demo", type=click.Path(file_okay=False))
@json_option
def demo(directory, as_json):
    """The whole loop on the example project, on CPU: build V1, test, debug, build V2, test, diff.

    \b
    Example:  proda demo /tmp/demo
    """
    from .demo import demo as run_demo
    from .diff import render

    _emit(run_demo(Path(directory)), as_json, lambda r: render(r) + f"\n  took {r['seconds']:.0f}s")


ALL = [test_cmd, debug, diff, show, report, export, demo]
