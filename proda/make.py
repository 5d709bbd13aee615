"""The only module that knows doit: stages become doit tasks; ``proda build``, ``proda status``
and every project's ``dodo.py`` (through ``proda.tasks``) run the same graph.

One task per (stage, shard), named ``stage:shard``. Each task's ``file_dep`` is its inputs (corpus
files, patch files or upstream shard manifests) plus the stage's recipe file
``build/recipes/<stage>.json`` (version, resolved params, backend fingerprint — rewritten only when
it changes), and its target is its own manifest. Everything that can make a task stale is a file,
so ``doit reset-dep``, ``doit info`` and ``proda status`` all see the same picture. A manifest that
comes out unchanged stops the rebuild there (early cutoff), because doit's file check compares
content with an xxhash checker (mtime first, then size, then hash — as doit's MD5Checker). State
lives in doit's sqlite3 backend under ``build/``.

Staleness is explained the way ``doit info`` does (cmd_info.get_reasons), in proda's terms:
*code* (a stage version changed), *params* (a resolved setting changed, named), *data* (corpus
or patch files added, removed or edited), *upstream* (an input manifest changed, or an upstream
task is itself stale), *missing* (never built). doit itself is imported only when a build or a
status check has to ask it (the no-op fast path never does).
"""

from __future__ import annotations

import os
import sys
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .engine import fastpath, layout, stage as stages
from .errors import ProdaError, StageError

if TYPE_CHECKING:
    from .project import Project


def stage_names(until: str | None) -> list[str]:
    if until is None:
        return list(stages.ORDER)
    stages.get(until)  # validates, with "did you mean"
    return list(stages.ORDER[: stages.ORDER.index(until) + 1])


def build(project: "Project", until: str | None = None, jobs: int = 1, verify: bool = False, *,
          verbose: bool = False, quiet: bool = False) -> dict[str, Any]:
    """Bring build/ up to date. ``verify``: check every file under build/ against its hash first
    (``proda verify --repair``) instead of trusting the no-op fast path's stat signature. Stage
    lines go to stderr as stages finish (none if ``quiet``; per task too if ``verbose``); returns
    the version and the counts of every stage asked for (:mod:`proda.engine.tally`)."""
    names = stage_names(until)
    hit = None if verify else fastpath.noop_result(project.root, project.overrides, until)
    if hit is not None:
        return hit
    from .engine import lock, versions

    from .engine.tally import Tally

    inputs = fastpath.inputs(project.root)  # before the config is read: the stamp must not vouch for later specs
    project.config  # validate before anything runs
    with lock.hold(project):
        from .engine import integrity

        integrity.prune_removed(project)  # shards that left the specs leave the version id
        if verify:
            repaired = integrity.verify(project, repair=True)["problems"]
        else:
            repaired = integrity.preflight(project)  # damaged state is moved aside, then rebuilt
        tally = Tally(project, names)
        _output[str(project.root)] = {"verbose": verbose, "quiet": quiet, "tally": tally, "jobs": jobs}
        argv = ["run", "-n", str(max(1, jobs))] + names
        # doit captures an action's output by swapping sys.stdout/stderr; with -n > 1 its threads
        # swap them concurrently and one may restore another's capture, which would then swallow
        # what the caller prints after the build (`proda build -j 2 --json` printed nothing)
        streams = sys.stdout, sys.stderr
        try:
            from .engine import executors, runner

            # worker processes start while doit plans the tasks (and read the settings, if they run whole tasks)
            executors.prewarm(project.config.run, (runner.worker_project, str(project.root), tuple(project.overrides))
                              if _whole_tasks(project, jobs) else None)
            _failures.pop(str(project.root), None)
            _reported.pop(str(project.root), None)
            rc = run_doit(project, argv)
            from .engine import catalog

            if rc != 0 and catalog.HEALED:  # the catalog was damaged and replaced mid-run: once more
                catalog.HEALED.clear()
                _failures.pop(str(project.root), None)
                _reported.pop(str(project.root), None)
                rc = run_doit(project, argv)
        except KeyboardInterrupt:
            from .errors import Interrupted

            # doit captures an action's output by swapping sys.stdout/stderr and does not swap them
            # back when the action is interrupted: restore them, or the message below is lost
            sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
            from .engine import executors

            executors.shutdown(now=True)  # workers running whole tasks stop now, not when their task ends
            raise Interrupted("build interrupted; finished items are kept — run `proda build` to resume") from None
        finally:
            from .engine import executors

            sys.stdout, sys.stderr = streams
            executors.shutdown()
            _output.pop(str(project.root), None)
        failures = _failures.pop(str(project.root), [])
        reported = _reported.pop(str(project.root), [])
        if rc != 0:
            from .errors import UsageError

            # the first failure itself, so that `--json` (one object on stdout) names the file and line too
            said = (str(failures[0]).strip().splitlines() or [type(failures[0]).__name__])[0] if failures else ""
            first = f" ({said[:400]})" if said else ""
            more = f" and {len(reported) - 1} more above" if len(reported) > 1 else ""
            if failures and len(failures) == len(reported) and all(isinstance(f, UsageError) for f in failures):
                raise UsageError(f"the build stopped on an input error{first}{more}; finished items are kept",
                                 "fix what it names and run `proda build` again: it resumes")
            raise StageError(f"the build failed{first or ' (see the messages above)'}{more}; finished items are kept",
                             "fix the cause and run `proda build` again: it resumes")
        # counted before the version is recorded: the catalog's stage_runs copy the same numbers
        result = {"version": "", "stages": tally.stages(names), "tasks": tally.tasks(names)}
        result["version"] = versions.record(project)
        result["dropped"] = dropped_summary(project, result["stages"])
        _fail_if_nothing_came_out(project, result["stages"])
        if repaired:
            result["repaired"] = [p.as_dict() for p in repaired]
        if not any(s.get("skipped") for s in result["stages"].values()) and fastpath.inputs(project.root) == inputs:
            # an incomplete build never stamps, nor one whose specs or code moved while it ran (the
            # next build then asks doit, which sees what moved)
            fastpath.save(project.root, project.overrides, until, result, integrity.watched_files(project))
    return result


def _fail_if_nothing_came_out(project: "Project", counts: dict[str, dict[str, Any]]) -> None:
    """A stage whose every unit, in every shard, was skipped (every LLM reply unusable) is not a
    success with nothing in it: exit 1 with the first reason. One bad shard among good ones is
    published incomplete and retried by the next build, as any skipped unit is."""
    from .engine.outputs import read_manifest

    for stage, c in counts.items():
        if not c.get("skipped") or c.get("built") or c.get("reused"):
            continue
        reasons = [entry["reason"] for shard in stages.get(stage).shards(project)
                   for entry in ((read_manifest(project.build, stage, shard) or {}).get("extra", {}).get("skipped") or [])]
        raise StageError(f"{stage}: every unit was skipped ({c['skipped']}), the first because: "
                         f"{reasons[0] if reasons else 'see the skipped lines above'}",
                         "nothing came out of this stage; fix what the reason names (often the model's "
                         "replies: llm.model, the server) and build again: it retries exactly these units")


def dropped_summary(project: "Project", counts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What the build left out: dropped documents by reason (from the ingest manifests), units
    skipped in this run and, when bench ran, the candidate items it dropped (``items``) beside the
    items it kept per split (``kept_items``) and the disciplines with no item in a split
    (``untested``: discipline -> splits); ``proda stats --dropped`` lists each dropped item."""
    from .engine.outputs import read_manifest

    reasons: dict[str, int] = {}
    for shard in stages.get("ingest").shards(project):
        manifest = read_manifest(project.build, "ingest", shard)
        for reason, n in (manifest or {}).get("extra", {}).get("dropped_reasons", {}).items():
            reasons[reason] = reasons.get(reason, 0) + n
    out = {"documents": sum(reasons.values()), "reasons": dict(sorted(reasons.items())),
           "skipped_units": sum(s.get("skipped", 0) for s in counts.values())}
    if "bench" in counts:  # items kept per split and candidates dropped (``built`` counts both)
        from .engine.outputs import item_counts

        counts_by = item_counts(project)
        out["items"] = sum(c["dropped"] for c in counts_by.values())
        out["kept_items"] = {s: sum(c[s] for c in counts_by.values()) for s in ("dev", "holdout")}
        out["untested"] = {d: missing for d, c in counts_by.items()  # discipline -> splits it has no item in
                           if (missing := [s for s in ("dev", "holdout") if not c[s]])}
    return out


def status(project: "Project") -> dict[str, Any]:
    """What ``proda build`` would run, and why — without building."""
    stamp = fastpath.load(project.root)
    if stamp and fastpath.noop_result(project.root, project.overrides, None) is not None:
        return {"up_to_date": True, "version": stamp["result"]["version"], "stale": []}
    from doit.dependency import Dependency, SqliteDB

    from .engine import versions
    from doit.loader import load_tasks


    from .engine import integrity

    namespace = stage_tasks(project, write=False)  # read-only: a build running now keeps its recipes
    tasks = [t for t in load_tasks(namespace) if ":" in t.name]
    by_name = {t.name: t for t in tasks}
    producer = {target: t.name for t in tasks for target in t.targets}
    db_path = layout.doit_db(project.build)
    stale: list[dict[str, str]] = []
    stale_names: set[str] = set()
    damaged: dict[str, list[str]] = {}
    for problem in integrity.preflight(project, repair=False):  # reported, repaired by a build
        for name in (by_name if problem.task == "every task" else [problem.task]):
            damaged.setdefault(name, []).append(f"damaged: {problem.line()}")
    for stage, shard, path in integrity.removed_shards(project):
        stale.append({"stage": stage, "shard": shard, "task": f"{stage}:{shard}",
                      "reason": f"removed: {shard} is no longer in the specs; the next build drops "
                                f"{_short(project, str(path))} from the version"})
    dep = None
    if db_path.exists() and not integrity.doit_db_problem(db_path):
        dep = Dependency(SqliteDB, str(db_path), checker_cls=xxh_checker())
    try:
        for task in tasks:  # tasks come in stage order, so upstream is decided first
            reasons = damaged.get(task.name) or _reasons(project, task, dep, by_name, producer, stale_names)
            if reasons:
                stale_names.add(task.name)
                stage, shard = task.name.split(":", 1)
                for reason in reasons:
                    stale.append({"stage": stage, "shard": shard, "task": task.name, "reason": reason})
    finally:
        if dep is not None:
            dep.close()
    built = not damaged and versions.manifests(project)  # nothing built yet: no version (not the empty one's id)
    return {"up_to_date": not stale, "version": versions.version_id(built) if built else None, "stale": stale}


def _reasons(project: "Project", task, dep, by_name, producer, stale_names) -> list[str]:
    from .engine.outputs import read_manifest

    stage, shard = task.name.split(":", 1)
    upstream_stale = sorted({producer[d] for d in task.file_dep if producer.get(d) in stale_names})
    manifest = read_manifest(project.build, stage, shard)
    if manifest is None or dep is None:
        return ["missing: never built"]
    reasons = []
    if upstream_stale:
        reasons.append("upstream: " + ", ".join(upstream_stale) + " will rebuild")
    if not dep.get_values(task.name):
        # every successful run leaves the manifest's hash with doit; none here means its last run
        # failed (doit forgets a failed task's state), so doit would call every input changed
        reasons.append("failed: its last run failed; it runs again (a failed run leaves no record of "
                       "its inputs to compare)")
        return reasons
    status = dep.get_status(task, by_name, get_log=True)
    why = status.reasons
    recipe_file = str(recipe_path(project, stage))
    foreign = [f for f in why.get("removed_file_dep", []) if not Path(f).is_relative_to(project.root)]
    if foreign:  # doit keys its records by absolute path: this build/ was made in another folder
        old = next((f.split(f"{os.sep}{part}{os.sep}")[0] for f in foreign for part in ("specs", "build")
                    if f"{os.sep}{part}{os.sep}" in f), os.path.dirname(foreign[0]))
        reasons.append(f"moved: build/ was made in {old} (the project was copied or moved); the next build "
                       "checks this task again and takes its units from the memo")
        moved = _moved_data(project, task, dep, old, foreign, set(producer) | {recipe_file})
        if moved:  # what changed since, read from doit's records under the old paths
            reasons.append(_data_reason(project, moved))
        return reasons
    current = _recipe_of(stages.get(stage), project)
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
        reasons.append(_data_reason(project, data))
    if ups:
        reasons.append("upstream: " + ", ".join(sorted({f"{t} {v}" for v, t in ups})))
    if why.get("missing_target"):
        reasons.append("missing: output manifest deleted")
    elif why.get("uptodate_false") and dep.get_values(task.name).get("manifest") != _file_hash(
            str(layout.manifest(project.build, stage, shard))):
        reasons.append("changed: the output manifest is not the one this task wrote; it is rebuilt")
    skipped = manifest.get("extra", {}).get("skipped") or []
    if skipped:
        reasons.append(f"incomplete: {len(skipped)} unit(s) skipped last time, retried next build "
                       f"(first: {skipped[0]['reason'][:120]})")
    return reasons


def _data_reason(project: "Project", data: list[tuple[str, str]]) -> str:
    """``data: FILE VERB, ...`` for (verb, file) pairs, the first five named."""
    shown = ", ".join(f"{_short(project, f)} {v}" for v, f in data[:5])
    more = f" and {len(data) - 5} more" if len(data) > 5 else ""
    return f"data: {shown}{more}"


def _moved_data(project: "Project", task, dep, old: str, foreign: list[str], not_data: set[str]) -> list[tuple[str, str]]:
    """A moved project's data files (not manifests, not the recipe) compared with doit's records
    of them under the old folder: (verb, file) for each added, changed or removed one."""
    out = []
    for f in sorted(task.file_dep):
        if f in not_data or not Path(f).is_relative_to(project.root):
            continue
        state = dep._get(task.name, os.path.join(old, os.path.relpath(f, project.root)))
        if state is None:
            out.append(("added", f))
            continue
        try:
            changed = dep.checker.check_modified(f, dep.checker.info(f), state)
        except Exception:  # gone since the task list was made
            changed = True
        if changed:
            out.append(("changed", f))
    for f in sorted(foreign):
        here = os.path.join(str(project.root), os.path.relpath(f, old))
        if here not in task.file_dep and here not in not_data and not here.startswith(str(project.build)):
            out.append(("removed", here))
    return out


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


def _short(project: "Project", path: str) -> str:
    try:
        return Path(path).relative_to(project.root).as_posix()
    except ValueError:
        return path


# -- doit tasks -------------------------------------------------------------------------------


@lru_cache(maxsize=None)
def xxh_checker() -> type:
    """doit file checker: same mtime -> unchanged; other size -> changed; else compare xxh3."""
    from doit.dependency import FileChangedChecker

    class XxhChecker(FileChangedChecker):
        def check_modified(self, file_path, file_stat, state):
            timestamp, size, file_hash = state
            if file_stat.st_mtime == timestamp:
                return False
            if file_stat.st_size != size:
                return True
            return file_hash != _file_hash(file_path)

        def get_state(self, dep, current_state):
            stat = os.stat(dep)
            if current_state and current_state[0] == stat.st_mtime:
                return None
            return stat.st_mtime, stat.st_size, _file_hash(dep)

    return XxhChecker


def _file_hash(path: str) -> str:
    import xxhash

    hasher = xxhash.xxh3_128()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                hasher.update(block)
    except OSError as exc:  # unreadable files still get a state; ingest reports them
        return f"error:{exc.errno}"
    return hasher.hexdigest()


_projects: dict[tuple[str, tuple[str, ...]], "Project"] = {}
_failures: dict[str, list[Exception]] = {}  # project root -> the errors its failed tasks raised, this build
_reported: dict[str, list[str]] = {}  # project root -> every failure doit reported, this build


def _project(root: str, overrides: tuple[str, ...]) -> "Project":
    key = (root, tuple(overrides))
    if key not in _projects:
        from .project import Project

        _projects[key] = Project.at(root, overrides)
    return _projects[key]


def complete(task, values, manifest: str) -> bool:
    """doit uptodate: the manifest on disk is the one this task wrote (doit keeps its hash; a
    manifest edited or replaced since is rebuilt), and it has no skipped units (a shard
    published with skipped units stays stale, so the next build retries them; finished units
    come from the memo)."""
    import json

    try:
        with open(manifest, "rb") as fh:
            data = fh.read()
    except OSError:
        return False
    import xxhash

    if values.get("manifest") != xxhash.xxh3_128_hexdigest(data):
        return False
    try:
        return not json.loads(data).get("extra", {}).get("skipped")
    except (ValueError, AttributeError):
        return False


def run_stage(root: str, overrides: tuple[str, ...], stage: str, shard: str):
    """doit action: run one (stage, shard); user errors become a clean task failure."""
    from .engine import lock, runner

    project = _project(root, overrides)
    try:
        with lock.hold(project, reentrant=True):
            inputs = _task_inputs(project, stage, shard)
            before = _stats(inputs)
            if _on_worker(project, stage):
                from .engine import executors
                from .hashing import digest

                executors.for_config(project.config.run).run_task(
                    runner.execute_on_worker, root, tuple(overrides), stage, shard, os.getpid(),
                    digest(runner.recipe_of(stages.get(stage), project)))
            else:
                runner.execute(project, stages.get(stage), shard)
            moved = [p for p, a, b in zip(inputs, before, _stats(inputs)) if a != b]
            if moved:  # doit would record the new state as the one this output was built from
                under_build = Path(moved[0]).is_relative_to(project.build)
                raise StageError(f"{_short(project, moved[0])}"
                                 f"{f' (and {len(moved) - 1} more input(s))' if len(moved) > 1 else ''} "
                                 f"changed while {stage}:{shard} was reading it: its output may be of the "
                                 "earlier content", "run `proda build` again (it redoes that shard; "
                                 "finished units are kept), and " + (
                                     "let nothing else write under build/ while it runs (another proda "
                                     "or doit process?)" if under_build else "leave specs/ alone while it runs"))
    except ProdaError as exc:
        from doit.exceptions import TaskFailed

        _failures.setdefault(root, []).append(exc)
        return TaskFailed(str(exc))  # the reporter names the task
    except Exception as exc:  # a crash: doit shows its traceback; the build's exit code stays 1
        _failures.setdefault(root, []).append(exc)
        raise
    # doit keeps this with the task's state: the manifest it finds later must be this very one
    return {"manifest": _file_hash(str(layout.manifest(project.build, stage, shard)))}


def _whole_tasks(project: "Project", jobs: int) -> bool:
    """Whether a build with ``-j jobs`` runs whole tasks on worker processes: worker processes,
    and at least as many tasks at once as workers (fewer, as whole tasks, would leave workers
    idle; with ``-j 1`` the units of each task are spread over the workers instead)."""
    if jobs < 2 or project.config.run.executor != "processes":
        return False
    from .engine import executors

    return jobs >= executors.for_config(project.config.run).workers


def _on_worker(project: "Project", stage: str) -> bool:
    """Whether this (stage, shard) task runs whole on a worker process (:func:`_whole_tasks`, a
    CPU-bound stage with at least as many shards as workers). Its shard's serial work — reading
    the upstream shard, the unit keys, the journal, the publish — then runs beside the other
    tasks' instead of on the build process's one core."""
    step = stages.get(stage)
    if not (_whole_tasks(project, (_output.get(str(project.root)) or {}).get("jobs", 1)) and step.cpu_bound(project)):
        return False
    from .engine import executors

    return len(step.shards(project)) >= executors.for_config(project.config.run).workers


def _task_inputs(project: "Project", stage: str, shard: str) -> list[str]:
    """The files a (stage, shard) task depends on: what doit records the state of after it runs."""
    return [str(p) for p in stages.get(stage).file_deps(project, shard)] + [str(recipe_path(project, stage))]


def _stats(paths: list[str]) -> list[tuple[int, int]]:
    out = []
    for path in paths:
        try:
            st = os.stat(path)
            out.append((st.st_size, st.st_mtime_ns))
        except OSError:
            out.append((-1, -1))
    return out


def record_version(root: str, overrides: tuple[str, ...]):
    from .engine import versions

    versions.record(_project(root, overrides))
    return True


def stage_tasks(project: "Project", write: bool = True) -> dict[str, Any]:
    """``task_*`` creators and DOIT_CONFIG for a project, for ModuleTaskLoader or a dodo.py.
    ``write=False`` (``proda status``) leaves the recipe files as they are: a build running at the
    same time would otherwise record, for the task it is running, a recipe it did not run with."""
    root, overrides = str(project.root), tuple(project.overrides)
    _projects[(root, overrides)] = project  # actions see this very project (and its config)
    namespace: dict[str, Any] = {}
    for name in stages.ORDER:
        stage = stages.get(name)
        # resolved now, so a config or backend error surfaces as a message, not a doit traceback
        if write:
            write_recipe(project, stage)
        else:
            _recipe_of(stage, project)  # resolved all the same: a config error is a message
        namespace[f"task_{name}"] = _creator(project, stage, root, overrides)

    def task_version():
        """Record the build version (content id of every stage manifest) in the catalog."""
        return {"actions": [(record_version, [root, overrides])], "task_dep": list(stages.ORDER),
                "uptodate": [False], "verbosity": 0}

    namespace["task_version"] = task_version
    namespace["DOIT_CONFIG"] = doit_config(project)
    return namespace


def doit_config(project: "Project") -> dict[str, Any]:
    project.build.mkdir(parents=True, exist_ok=True)
    return {
        "dep_file": str(layout.doit_db(project.build)),
        "backend": "sqlite3",
        "check_file_uptodate": xxh_checker(),
        "par_type": "thread",  # one process: the DuckDB catalog has a single writer
        "reporter": reporter_for(project),
        "default_tasks": list(stages.ORDER) + ["version"],
        "verbosity": 0,
    }


def recipe_path(project: "Project", stage: str) -> Path:
    return layout.recipe(project.build, stage)


def write_recipe(project: "Project", stage: stages.Stage) -> Path:
    """The stage's resolved recipe as a file (rewritten only when it changes, so mtime is stable)."""
    import json

    from .engine.storage import atomic_write

    path = recipe_path(project, stage.name)
    data = (json.dumps(_recipe_of(stage, project), indent=1, sort_keys=True) + "\n").encode()
    if not path.exists() or path.read_bytes() != data:
        atomic_write(path, data)
    return path


def _creator(project: "Project", stage: stages.Stage, root: str, overrides: tuple[str, ...]):
    def creator():
        for shard in stage.shards(project):
            yield {
                "name": shard,
                "actions": [(run_stage, [root, overrides, stage.name, shard])],
                "file_dep": _task_inputs(project, stage.name, shard),  # its inputs and its recipe file
                "targets": [str(layout.manifest(project.build, stage.name, shard))],
                "uptodate": [(complete, [str(layout.manifest(project.build, stage.name, shard))])],
                "doc": f"{stage.name} for {shard}",
                "verbosity": 0,
            }

    creator.__name__ = f"task_{stage.name}"
    creator.__doc__ = (stages_doc(stage))
    return creator


def stages_doc(stage: stages.Stage) -> str:
    import sys

    doc = sys.modules[type(stage).__module__].__doc__ or stage.name
    return doc.strip().splitlines()[0]


def run_doit(project: "Project", argv: list[str]) -> int:
    """Run doit with proda's tasks (what ``proda build`` and ``doit`` both execute)."""
    from doit.cmd_base import ModuleTaskLoader
    from doit.doit_cmd import DoitMain
    from doit.plugin import PluginDict

    # proda's tasks need no third-party doit plugins; looking them up scans the metadata of every
    # installed distribution three times (~50 ms, a third of a no-op build). Plain `doit` still does.
    PluginDict._from_entry_points = lambda self, category: {}
    return DoitMain(ModuleTaskLoader(stage_tasks(project)), config_filenames=()).run(argv)


def load_dodo(dodo_file: str | Path) -> dict[str, Any]:
    """What a project's ``dodo.py`` calls: ``globals().update(load_dodo(__file__))``."""
    overrides = tuple(filter(None, (s.strip() for s in os.environ.get("PRODA_SET", "").split(";"))))
    from .project import Project

    try:
        return stage_tasks(Project.at(Path(dodo_file).resolve().parent, overrides, origin="PRODA_SET"))
    except ProdaError as exc:  # doit would print a traceback: say what to fix, exit as proda does
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(exc.exit_code) from None


def _recipe_of(stage, project):
    from .engine.runner import recipe_of

    return recipe_of(stage, project)


# -- what the user sees -------------------------------------------------------------------------

# How the next doit run under ``build`` reports, per project root: {"verbose", "quiet", "tally"}.
# Plain ``doit`` finds nothing here and reports the default way.
_output: dict[str, dict[str, Any]] = {}


def stage_line(name: str, counts: dict[str, Any]) -> str:
    """One stage (or, indented, one ``stage:shard`` task) as every command prints it: built,
    reused, seconds, and units skipped."""
    label = f"  {name:<8}" if ":" not in name else f"    {name:<26}"
    line = f"{label} built {counts['built']:>6}  reused {counts['reused']:>6}  {counts['seconds']:>6.1f}s"
    if counts.get("restored"):
        line += f"  ({counts['restored']} of them made earlier)"
    if counts.get("skipped"):
        line += f"  skipped {counts['skipped']} (retried next build)"
    if counts.get("damaged"):
        line += f"  {counts['damaged']} damaged memo entries recomputed"
    return line


def reporter_for(project: "Project") -> type:
    """doit reporter: one line per stage when its last task finishes, in pipeline order, with
    built / reused / seconds (per task too with ``proda build -v``); a progress bar over the tasks
    on a terminal; failures with their message. Everything goes to stderr: stdout stays free
    for ``--json``."""
    from doit.reporter import ConsoleReporter

    from .engine import progress
    from .engine.tally import Tally

    root = str(project.root)

    class ProdaReporter(ConsoleReporter):
        desc = "proda: one line per stage (built, reused, seconds) and failures, on stderr"

        def __init__(self, outstream, options):
            super().__init__(sys.stderr, options)
            mode = _output.get(root, {})
            self.verbose, self.quiet = mode.get("verbose", False), mode.get("quiet", False)
            self.tally = mode.get("tally") or Tally(project)
            self.expected: dict[str, set[str]] = {}
            self.done: dict[str, set[str]] = {}
            self.printed: list[str] = []
            self.update = None

        def initialize(self, tasks, selected_tasks):
            producer = {t: name for name, task in tasks.items() for t in task.targets}
            seen, todo = set(), list(selected_tasks)
            while todo:  # the tasks this run will visit: selected ones and everything they need
                name = todo.pop()
                if name in seen or name not in tasks:
                    continue
                seen.add(name)
                task = tasks[name]
                todo += list(task.task_dep) + [producer[f] for f in task.file_dep if f in producer]
            for name in seen:
                if ":" in name:
                    stage, shard = name.split(":", 1)
                    self.expected.setdefault(stage, set()).add(shard)
            total = sum(len(s) for s in self.expected.values())
            self.update = progress.start("checking", total) if total else None

        def _finished(self, task, ran: bool) -> None:
            if ":" not in task.name:
                return
            stage, shard = task.name.split(":", 1)
            self.done.setdefault(stage, set()).add(shard)
            if self.update:
                self.update(advance=1)
            if ran and self.verbose:
                progress.say(stage_line(task.name, self.tally.shard(stage, shard)))
            self._flush()

        def _flush(self) -> None:
            for stage in stages.ORDER:  # pipeline order, whatever order tasks finish in
                if stage not in self.expected or stage in self.printed:
                    continue
                if self.done.get(stage, set()) != self.expected[stage]:
                    return
                self.printed.append(stage)
                if not self.quiet:
                    progress.say(stage_line(stage, self.tally.stage(stage)))

        def execute_task(self, task):
            if self.update and ":" in task.name:
                self.update(description=f"building {task.name}")

        def add_success(self, task):
            self._finished(task, ran=True)

        def skip_uptodate(self, task):
            self._finished(task, ran=False)

        def skip_ignore(self, task):
            self._finished(task, ran=False)

        def _write_failure(self, result, write_exception=True):
            exc = result["exception"]
            _reported.setdefault(root, []).append(result["task"].name)  # exit 2 only if all were input errors
            progress.say(f"FAILED {result['task'].name}: {exc.get_msg().strip()}")

        def complete_run(self):
            progress.stop()
            if self.runtime_errors:
                _reported.setdefault(root, []).append("(doit)")
                self.write("build aborted:\n" + "\n".join(self.runtime_errors) + "\n")

    return ProdaReporter
