"""``proda debug``."""

from __future__ import annotations

import click

from .options import emit, json_option, project, project_option, set_option


@click.command()
@project_option
@set_option
@json_option
def debug(project_dir, overrides, as_json):
    """Diagnose the dev split's failures and write a patch under specs/patches/.

    \b
    Example:  proda debug && proda build   # V2: recompiles only what the patch touches
    """
    from ..debugger.run import debug as run_debug
    from ..engine import lock

    proj = project(project_dir, overrides)
    with lock.hold(proj):  # it reads the build's outputs and writes under specs/: not while a build runs
        result = run_debug(proj)
    emit(result, as_json, lambda r: (
        f"{r['failures']} failures: {r['concept_gaps']} concept gaps, {r['reasoning_deficits']} "
        f"reasoning deficits, {r['undetermined']} undetermined (probe base rate {r['base_rate']:.2f}) "
        f"-> {r['patch']} ({r['samples']} samples + {r['replay']} replay; "
        f"{sum(r['dropped'].values())} candidates dropped by the orthogonality rule)"
        + (f"\n{len(r['untargeted'])} of the failures: the patch teaches none of their own statements or "
           f"concepts (first: proda show {r['untargeted'][0][:12]})" if r["untargeted"] else "")))
