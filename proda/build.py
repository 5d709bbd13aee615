"""``proda build`` and ``proda status``: run the doit graph, or explain what is stale and why.

Staleness is explained the way ``doit info`` does (cmd_info.get_reasons), in proda's terms:
*code* (a stage version changed), *params* (a resolved setting changed, named), *data* (corpus
or patch files added, removed or edited), *upstream* (an input manifest changed, or an upstream
task is itself stale), *missing* (never built).
"""

from __future__ import annotations

import time
from typing import Any

from . import fastpath, stages
from .errors import StageError


def stage_names(until: str | None) -> list[str]:
    if until is None:
        return list(stages.ORDER)
    stages.get(until)  # validates, with "did you mean"
    return list(stages.ORDER[: stages.ORDER.index(until) + 1])


def build(project, until: str | None = None, jobs: int = 1) -> dict[str, Any]:
    names = stage_names(until)
    hit = fastpath.noop_result(project.root, project.overrides, until)
    if hit is not None:
        return hit
    from . import lock, versions
    from .tasks import run_doit

    project.config  # validate before anything runs
    started = time.time()
    with lock.hold(project):
        argv = ["run", "-n", str(max(1, jobs))] + names
        try:
            rc = run_doit(project, argv)
        except KeyboardInterrupt:
            from .errors import LockError

            raise LockError("build interrupted; finished items are kept — run `proda build` to resume")
        if rc != 0:
            raise StageError("the build failed (see the messages above); finished items are kept",
                             "fix the cause and run `proda build` again: it resumes")
        version = versions.record(project)
        result = {"version": version, "stages": stage_counts(project, names, started)}
        if not any(s.get("skipped") for s in result["stages"].values()):
            fastpath.save(project.root, project.overrides, until, result)  # an incomplete build never stamps
    return result


def stage_counts(project, names: list[str], since: float) -> dict[str, dict[str, Any]]:
    from . import storage
    from .engine import read_manifest

    out: dict[str, dict[str, Any]] = {}
    for name in names:
        totals = {"built": 0, "reused": 0, "seconds": 0.0, "skipped": 0}
        for shard in stages.get(name).shards(project):
            run = project.build / "runs" / f"{name}.{shard}.json"
            stats = storage.read_json(run) if run.exists() else None
            if stats and stats["finished"] >= since:
                totals["built"] += stats["built"]
                totals["reused"] += stats["reused"]
                totals["seconds"] += stats["seconds"]
                totals["skipped"] += stats.get("skipped", 0)
            else:
                manifest = read_manifest(project.build, name, shard)
                totals["reused"] += manifest["records"] if manifest else 0
        totals["seconds"] = round(totals["seconds"], 3)
        out[name] = totals
    return out


def status(project) -> dict[str, Any]:
    """What ``proda build`` would run, and why — without building."""
    stamp = fastpath.load(project.root)
    if stamp and fastpath.noop_result(project.root, project.overrides, None) is not None:
        return {"up_to_date": True, "version": stamp["result"]["version"], "stale": []}
    from doit.dependency import Dependency, SqliteDB

    from . import versions
    from doit.loader import load_tasks

    from .tasks import XxhChecker, stage_tasks

    namespace = stage_tasks(project)
    tasks = [t for t in load_tasks(namespace) if ":" in t.name]
    by_name = {t.name: t for t in tasks}
    producer = {target: t.name for t in tasks for target in t.targets}
    db_path = project.build / ".doit.db"
    stale: list[dict[str, str]] = []
    stale_names: set[str] = set()
    dep = Dependency(SqliteDB, str(db_path), checker_cls=XxhChecker) if db_path.exists() else None
    try:
        for task in tasks:  # tasks come in stage order, so upstream is decided first
            reasons = _reasons(project, task, dep, by_name, producer, stale_names)
            if reasons:
                stale_names.add(task.name)
                stage, shard = task.name.split(":", 1)
                for reason in reasons:
                    stale.append({"stage": stage, "shard": shard, "task": task.name, "reason": reason})
    finally:
        if dep is not None:
            dep.close()
    return {"up_to_date": not stale, "version": versions.current(project), "stale": stale}


def _reasons(project, task, dep, by_name, producer, stale_names) -> list[str]:
    from .engine import read_manifest, recipe_of
    from .tasks import recipe_path

    stage, shard = task.name.split(":", 1)
    upstream_stale = sorted({producer[d] for d in task.file_dep if producer.get(d) in stale_names})
    manifest = read_manifest(project.build, stage, shard)
    if manifest is None or dep is None:
        return ["missing: never built"]
    reasons = []
    if upstream_stale:
        reasons.append("upstream: " + ", ".join(upstream_stale) + " will rebuild")
    status = dep.get_status(task, by_name, get_log=True)
    why = status.reasons
    recipe_file = str(recipe_path(project, stage))
    current = recipe_of(stages.get(stage), project)
    if manifest["recipe"] != current:
        reasons.extend(_recipe_reasons(manifest["recipe"], current))
    verbs: dict[str, str] = {}  # one verb per file: added/removed/missing win over changed
    for key, verb in (("changed_file_dep", "changed"), ("added_file_dep", "added"),
                      ("removed_file_dep", "removed"), ("missing_file_dep", "missing")):
        for f in why.get(key, []):
            verbs[f] = verb
    files = [(verb, f) for f, verb in sorted(verbs.items())]
    data = [(v, f) for v, f in files if f not in producer and f != recipe_file]
    ups = [(v, producer[f]) for v, f in files if f in producer and producer[f] not in upstream_stale]
    if data:
        shown = ", ".join(f"{_short(project, f)} {v}" for v, f in data[:5])
        more = f" and {len(data) - 5} more" if len(data) > 5 else ""
        reasons.append(f"data: {shown}{more}")
    if ups:
        reasons.append("upstream: " + ", ".join(sorted({f"{t} {v}" for v, t in ups})))
    if why.get("missing_target"):
        reasons.append("missing: output manifest deleted")
    skipped = manifest.get("extra", {}).get("skipped") or []
    if skipped:
        reasons.append(f"incomplete: {len(skipped)} unit(s) skipped last time, retried next build "
                       f"(first: {skipped[0]['reason'][:120]})")
    return reasons


def _recipe_reasons(old: dict, new: dict) -> list[str]:
    out = []
    if old.get("version") != new["version"]:
        out.append(f"code: stage version {old.get('version')} -> {new['version']}")
    for section, values in new["params"].items():
        before = old.get("params", {}).get(section, {})
        for key, value in values.items():
            if before.get(key) != value:
                out.append(f"params: {section}.{key} {before.get(key)!r} -> {value!r}")
    if old.get("backend") != new["backend"]:
        out.append(f"backend: {old.get('backend') or '-'} -> {new['backend'] or '-'}")
    return out or ["params: recipe changed"]


def _short(project, path: str) -> str:
    try:
        from pathlib import Path

        return Path(path).relative_to(project.root).as_posix()
    except ValueError:
        return path
