"""The stage protocol, and the one list of stage names in pipeline order.

A stage declares its name, a version (bump it when its output semantics change), the config
sections its recipe hashes, its shards (one per discipline where that helps ``-j``), the files
each shard depends on, and ``run(ctx)`` — a pure function of those inputs that returns records.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..project import Project

ORDER = ("ingest", "chunk", "extract", "bench", "synth", "compile", "test")
PATCH_SHARD = "patches"  # synth's extra shard: the debugger's patch files


class Stage:
    name: str = ""
    version: int = 1
    sections: tuple[str, ...] = ()

    def shards(self, project: "Project") -> list[str]:
        return project.disciplines()

    def file_deps(self, project: "Project", shard: str) -> list[Path]:
        raise NotImplementedError

    def upstream(self, project: "Project", shard: str) -> list[Path]:
        """The upstream manifests among ``file_deps`` (what a version checks a shard was built
        from: :func:`proda.engine.versions.manifests`); spec files are not among them."""
        build = str(project.build) + "/"
        return [Path(p) for p in self.file_deps(project, shard) if str(p).startswith(build)]

    def params(self, project: "Project") -> dict[str, Any]:
        """The resolved settings that define this stage's output (hashed into its recipe)."""
        from ..config import section_params

        return section_params(project.config, *self.sections)

    def fingerprint(self, project: "Project") -> str:
        """Identity of any model or backend the stage calls (weights hash for local models)."""
        return ""

    def cpu_bound(self, project: "Project") -> bool:
        """Whether a whole (stage, shard) task may run on a worker process (``proda build -j N``
        with worker processes: :func:`proda.engine.runner.execute_on_worker`): pure CPU work on
        files under build/ — no model, no HTTP, no catalog. Training and scoring stay in the build
        process."""
        return False

    def run(self, ctx: "proda.engine.runner.Context") -> list[Any]:  # noqa: F821 (no import: runner imports this)
        raise NotImplementedError


def manifests(project: "Project", stage: str) -> list[Path]:
    from . import layout

    return [layout.manifest(project.build, stage, s) for s in get(stage).shards(project)]


_cache: dict[str, Stage] = {}


def get(name: str) -> Stage:
    if name not in ORDER:
        import difflib

        from ..errors import UsageError

        close = difflib.get_close_matches(name, ORDER, n=1)
        raise UsageError(f"no stage named {name!r}", f"did you mean {close[0]!r}?" if close else
                         f"stages are: {', '.join(ORDER)}")
    if name not in _cache:
        module = importlib.import_module(f"proda.stages.{name}")
        _cache[name] = module.STAGE
    return _cache[name]
