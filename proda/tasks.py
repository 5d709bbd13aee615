"""The only module that knows doit: stages become doit tasks; ``dodo.py`` and ``proda build`` load them.

One task per (stage, shard), named ``stage:shard``. Each task's ``file_dep`` is its inputs (corpus
files, patch files or upstream shard manifests) plus the stage's recipe file
``build/recipes/<stage>.json`` (version, resolved params, backend fingerprint — rewritten only when
it changes), and its target is its own manifest. Everything that can make a task stale is a file,
so ``doit reset-dep``, ``doit info`` and ``proda status`` all see the same picture. A manifest that
comes out unchanged stops the rebuild there (early cutoff), because doit's file check compares
content with an xxhash checker (mtime first, then size, then hash — as doit's MD5Checker). State
lives in doit's sqlite3 backend under ``build/``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from doit.dependency import FileChangedChecker
from doit.exceptions import TaskFailed

from . import stages
from .engine import manifest_path, recipe_of
from .errors import ProdaError
from .project import Project


class XxhChecker(FileChangedChecker):
    """doit file checker: same mtime -> unchanged; other size -> changed; else compare xxh3."""

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


_projects: dict[tuple[str, tuple[str, ...]], Project] = {}


def _project(root: str, overrides: tuple[str, ...]) -> Project:
    key = (root, tuple(overrides))
    if key not in _projects:
        _projects[key] = Project.at(root, overrides)
    return _projects[key]


def complete(manifest: str) -> bool:
    """doit uptodate: a shard published with skipped units stays stale, so the next build retries
    them (finished units come from the memo)."""
    import json

    try:
        with open(manifest, encoding="utf-8") as fh:
            return not json.load(fh).get("extra", {}).get("skipped")
    except (OSError, ValueError):
        return False


def run_stage(root: str, overrides: tuple[str, ...], stage: str, shard: str):
    """doit action: run one (stage, shard); user errors become a clean task failure."""
    from . import engine, lock

    project = _project(root, overrides)
    try:
        with lock.hold(project, reentrant=True):
            engine.execute(project, stages.get(stage), shard)
    except ProdaError as exc:
        return TaskFailed(f"{stage}:{shard}: {exc}")
    return True


def record_version(root: str, overrides: tuple[str, ...]):
    from . import versions

    versions.record(_project(root, overrides))
    return True


def stage_tasks(project: Project) -> dict[str, Any]:
    """``task_*`` creators and DOIT_CONFIG for a project, for ModuleTaskLoader or a dodo.py."""
    root, overrides = str(project.root), tuple(project.overrides)
    _projects[(root, overrides)] = project  # actions see this very project (and its config)
    namespace: dict[str, Any] = {}
    for name in stages.ORDER:
        stage = stages.get(name)
        # resolved now, so a config or backend error surfaces as a message, not a doit traceback
        recipe = write_recipe(project, stage)
        namespace[f"task_{name}"] = _creator(project, stage, recipe, root, overrides)

    def task_version():
        """Record the build version (content id of every stage manifest) in the catalog."""
        return {"actions": [(record_version, [root, overrides])], "task_dep": list(stages.ORDER),
                "uptodate": [False], "verbosity": 0}

    namespace["task_version"] = task_version
    namespace["DOIT_CONFIG"] = doit_config(project)
    return namespace


def doit_config(project: Project) -> dict[str, Any]:
    from .reporter import ProdaReporter

    project.build.mkdir(parents=True, exist_ok=True)
    return {
        "dep_file": str(project.build / ".doit.db"),
        "backend": "sqlite3",
        "check_file_uptodate": XxhChecker,
        "par_type": "thread",  # one process: the DuckDB catalog has a single writer
        "reporter": ProdaReporter,
        "default_tasks": list(stages.ORDER) + ["version"],
        "verbosity": 0,
    }


def recipe_path(project: Project, stage: str) -> Path:
    return project.build / "recipes" / f"{stage}.json"


def write_recipe(project: Project, stage: stages.Stage) -> Path:
    """The stage's resolved recipe as a file (rewritten only when it changes, so mtime is stable)."""
    import json

    from .storage import atomic_write

    path = recipe_path(project, stage.name)
    data = (json.dumps(recipe_of(stage, project), indent=1, sort_keys=True) + "\n").encode()
    if not path.exists() or path.read_bytes() != data:
        atomic_write(path, data)
    return path


def _creator(project: Project, stage: stages.Stage, recipe: Path, root: str, overrides: tuple[str, ...]):
    def creator():
        for shard in stage.shards(project):
            yield {
                "name": shard,
                "actions": [(run_stage, [root, overrides, stage.name, shard])],
                "file_dep": [str(p) for p in stage.file_deps(project, shard)] + [str(recipe)],
                "targets": [str(manifest_path(project.build, stage.name, shard))],
                "uptodate": [(complete, [str(manifest_path(project.build, stage.name, shard))])],
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


def run_doit(project: Project, argv: list[str]) -> int:
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
    overrides = tuple(filter(None, os.environ.get("PRODA_SET", "").split(";")))
    return stage_tasks(Project.at(Path(dodo_file).resolve().parent, overrides))
