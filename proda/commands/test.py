"""``proda test``."""

from __future__ import annotations

import sys

import click

from .options import emit, json_option, project, project_option, set_option


@click.command("test")
@project_option
@click.option("--failed", is_flag=True, help="Only the items that failed in the last test run.")
@click.option("--split", type=click.Choice(["dev", "holdout", "all"]), default="all", show_default=True)
@click.option("--discipline", metavar="D", help="Only this discipline.")
@click.option("--fail-under", type=float, metavar="X", help="Exit 1 when accuracy is below X (0-1).")
@set_option
@json_option
def test(project_dir, failed, split, discipline, fail_under, overrides, as_json):
    """Score the benchmark against the current checkpoint (results are reused per checkpoint).

    \b
    Example:  proda test --failed --json
    """
    from ..score.runs import run_tests

    result = run_tests(project(project_dir, overrides), failed=failed, split=split, discipline=discipline)

    def text(r):
        if r.get("nothing_failed") is not None:
            return (f"checkpoint {r['checkpoint']}: nothing failed in the last test run ({r['nothing_failed']}): "
                    "nothing to rerun")
        a, q, n = r["accuracy"], r["question"], r["items"]

        def fig(split):  # a split with no selected item has no accuracy, not 0.000
            return f"{a[split]:.3f}" if n[split] else "-"

        return (f"checkpoint {r['checkpoint']}: {r['passed']}/{r['passed'] + r['failed']} passed "
                f"(ran {r['ran']}, reused {r['reused']}) — accuracy all {fig('all')} "
                f"dev {fig('dev')} holdout {fig('holdout')}; without the question "
                f"{q['without']['all']:.3f} (the question adds {q['adds']['all']:+.3f})"
                + (f"\nfailed: {' '.join(k[:12] for k in r['failed_items'][:5])}"
                   + (f" and {len(r['failed_items']) - 5} more (--json lists all)" if len(r['failed_items']) > 5 else "")
                   + " — `proda show KEY` traces one" if r["failed_items"] else "")
                + ("\n(a build is running: results read from a snapshot of the catalog; this call is not "
                   "recorded as a test run)" if r.get("run") is None else ""))

    emit(result, as_json, text)
    # --fail-under gates on what was scored: `--failed` with nothing left to rerun scored nothing
    if fail_under is not None and result["selected"] and result["accuracy"]["all"] < fail_under:
        sys.exit(1)
