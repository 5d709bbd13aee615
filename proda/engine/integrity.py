"""Trust nothing under ``build/`` that does not verify: check derived state, move damage aside.

Everything under ``build/`` is derived, so damaged state is never repaired in place or served: it
is moved to ``build/damaged/`` with a one-line warning, and the build graph rebuilds it (from the
memo journal when its entries verify, else from the recipe). What is checked, and by whom:

* ``preflight`` — before every build that runs the graph (the no-op fast path stats the same
  files instead): doit's state file opens and every row decodes; every current stage manifest is
  a JSON object of the right shape naming its own stage and shard; the object it names exists and
  hashes to its name; the checkpoints ``compile`` names hash to what compile recorded. A problem
  moves the damaged file aside (and with it the manifest of every task that needs it rebuilt).
  ``proda status`` runs it without repairing, to report.
* ``verify`` — ``proda verify``: the same plus every object under ``build/objects/`` (old versions
  too), every memo journal frame, the recorded versions and the catalog; ``--repair`` moves what
  failed aside, so the next build rebuilds it.
* manifests of shards that left the specs (a discipline folder removed) are pruned before the
  build, so they leave the version id (``prune_removed``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import layout, stage as stages, storage
from .damage import move_aside_path, say
from .outputs import manifest_problem

if TYPE_CHECKING:
    from ..project import Project

@dataclass
class Problem:
    path: str  # relative to the project root
    problem: str  # what is wrong
    task: str = ""  # the task whose rerun rebuilds it ("" when none needs to)
    action: str = ""  # what was done about it ("" when only reported)
    fixing: bool = False  # found by a build, which rebuilds it now

    def line(self) -> str:
        out = f"{self.path}: {self.problem}"
        if self.action:
            out += f"; {self.action}"
        if self.task == "every task":
            out += "; every task reruns, reusing the memo"
        elif self.task:
            out += f"; {self.task} rebuilds it" if self.fixing else f"; `proda build` reruns {self.task}"
        return out

    def as_dict(self) -> dict[str, str]:
        out = asdict(self)
        del out["fixing"]
        return out


def rel(project: "Project", path: Path) -> str:
    try:
        return Path(path).relative_to(project.root).as_posix()
    except ValueError:
        return str(path)


def move_aside(project: "Project", path: Path) -> str:
    """Move a damaged file or folder to ``build/damaged/`` (kept for inspection; deletable)."""
    return move_aside_path(project.root, path)


def warn(problem: Problem) -> None:
    problem.fixing = True
    say(f"warning: {problem.line()}")


# -- the checks ---------------------------------------------------------------------------------


def doit_db_problem(path: Path) -> str | None:
    """None when doit's sqlite3 state file is absent or opens with every row decodable."""
    if not path.exists():
        return None
    import sqlite3

    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = con.execute("SELECT task_id, task_data FROM doit").fetchall()
        finally:
            con.close()
    except sqlite3.Error as exc:
        if "no such table" in str(exc) and path.stat().st_size == 0:
            return None  # an empty file: doit creates its table
        return f"unreadable ({exc})"
    for task_id, data in rows:
        try:
            if not isinstance(json.loads(data), dict):
                raise ValueError("not an object")
        except (TypeError, ValueError) as exc:
            return f"the state of task {task_id!r} does not decode ({exc})"
    return None


def current_shards(project: "Project") -> dict[str, list[str]]:
    return {name: stages.get(name).shards(project) for name in stages.ORDER}


def preflight(project: "Project", repair: bool = True) -> list[Problem]:
    """Check doit's state, every current manifest, its object and the current checkpoints; with
    ``repair``, move what fails aside (with a warning) so the graph rebuilds it."""
    problems: list[Problem] = []

    def found(problem: Problem, *paths: Path) -> None:
        if repair:
            moved = [move_aside(project, p) for p in paths if p.exists() or p.is_symlink()]
            if moved:
                problem.action = f"moved to {moved[0]}" + (f" (and {len(moved) - 1} more)" if len(moved) > 1 else "")
            warn(problem)
        problems.append(problem)

    db = layout.doit_db(project.build)
    why = doit_db_problem(db)
    if why:
        found(Problem(rel(project, db), why, "every task", ""), db)

    objects = storage.Objects(project.build)
    checked: dict[str, str | None] = {}
    moved: dict[str, str] = {}
    for name, shards in current_shards(project).items():
        for shard in shards:
            path = layout.manifest(project.build, name, shard)
            if not path.exists():
                continue
            task = f"{name}:{shard}"
            data = storage.try_read_json(path)
            why = manifest_problem(data, name, shard)
            if why is None and name == "compile" and "weights" not in data["extra"]:
                why = "records no weights hash (written by an older proda)"
            if why:
                found(Problem(rel(project, path), why, task), path)
                continue
            digest = data["object"]
            if digest not in checked:
                checked[digest] = objects.problem(digest)
                moved[digest] = ""
                if checked[digest] and repair and objects.path(digest).exists():
                    moved[digest] = f"moved to {move_aside(project, objects.path(digest))}"
            if checked[digest]:
                problem = Problem(rel(project, objects.path(digest)), checked[digest], task, moved[digest])
                if repair:
                    move_aside(project, path)  # the manifest too, so the task reruns
                    warn(problem)
                problems.append(problem)
                continue
            if name == "compile":
                for key in data["extra"].get("lineage", []):
                    problems += _checkpoint(project, key, path, task, repair)
    return problems


def _checkpoint(project: "Project", key: str, manifest: Path, task: str, repair: bool) -> list[Problem]:
    from .outputs import checkpoint_dir, checkpoint_problem

    why = checkpoint_problem(project, key)
    if why is None:
        return []
    folder = checkpoint_dir(project, key)
    problem = Problem(rel(project, folder), why, task)
    if repair:
        moved = move_aside(project, folder) if folder.exists() else ""
        if manifest.exists():
            move_aside(project, manifest)
        problem.action = f"moved to {moved}" if moved else ""
        warn(problem)
    return [problem]


def removed_shards(project: "Project") -> list[tuple[str, str, Path]]:
    """(stage, shard, manifest) of every manifest whose shard is no longer in the specs."""
    out = []
    for name, shards in current_shards(project).items():
        folder = layout.stage_dir(project.build, name)
        if not folder.is_dir():
            continue
        keep = set(shards)
        for path in sorted(folder.glob("*.json")):
            if path.stem not in keep:
                out.append((name, path.stem, path))
    return out


def prune_removed(project: "Project") -> list[str]:
    """Delete the manifests (and run stats) of shards that left the specs: derived, and no longer
    part of the build, so they must leave its version id. Their objects stay for old versions."""
    pruned = []
    for name, shard, path in removed_shards(project):
        path.unlink(missing_ok=True)
        layout.run_stats(project.build, name, shard).unlink(missing_ok=True)
        pruned.append(f"{name}:{shard}")
    return pruned


def watched_files(project: "Project") -> list[str]:
    """The outputs the no-op fast path stats besides the manifests: the object of every current
    manifest and every file of the current checkpoints."""
    from .outputs import checkpoint_dir
    from .versions import manifests

    objects = storage.Objects(project.build)
    out = set()
    for task, manifest in manifests(project).items():
        out.add(str(objects.path(manifest["object"])))
        if task == "compile:all":
            for key in manifest["extra"].get("lineage", []):
                folder = checkpoint_dir(project, key)
                out.update(str(p) for p in folder.rglob("*") if p.is_file())
    return sorted(out)


def verify(project: "Project", repair: bool = False) -> dict[str, Any]:
    """``proda verify``: check everything under build/ against its hash or shape — what
    ``preflight`` checks, plus every object (old versions' too), every memo journal frame, other
    checkpoints, the recorded versions, the stamp and the catalog. With ``repair``, move what
    fails aside (the caller then builds, which rebuilds it)."""
    problems = preflight(project, repair)
    build = project.build
    checked = {"manifests": sum(layout.manifest(build, name, shard).exists()  # checked by preflight
                                for name, shards in current_shards(project).items() for shard in shards),
               "objects": 0, "journal_frames": 0, "journals": 0, "checkpoints": 0, "versions": 0}

    def found(problem: Problem, path: Path | None) -> None:
        if repair and path is not None and (path.exists() or path.is_symlink()):
            problem.action = f"moved to {move_aside(project, path)}"
            warn(problem)
        problems.append(problem)

    objects = storage.Objects(build)
    folder = layout.objects(build)
    for path in sorted(folder.glob("*/*")) if folder.is_dir() else []:
        if path.name.startswith("."):
            continue  # a temp file of an interrupted write
        checked["objects"] += 1
        digest = path.name.removesuffix(".msgpack")
        if path.parent.name != digest[:2] or not path.name.endswith(".msgpack"):
            found(Problem(rel(project, path), "not an object name"), path)
        elif (why := objects.problem(digest)) is not None:
            found(Problem(rel(project, path), why), path)

    memo = build / "memo"
    for path in sorted(memo.glob("*/*.log")) if memo.is_dir() else []:
        journal = storage.Journal(path)
        entries = journal.load(repair=repair)
        checked["journals"] += 1
        checked["journal_frames"] += len(entries) + journal.damaged
        if journal.damaged:
            problem = Problem(rel(project, path), f"{journal.damaged} frame(s) fail their checksum")
            if repair:
                problem.action = "dropped (their units are recomputed by the next build)"
                warn(problem)
            problems.append(problem)

    from .outputs import checkpoint_problem

    root = layout.checkpoints(build)
    current = {p.path for p in problems}
    for path in sorted(root.iterdir()) if root.is_dir() else []:
        if path.name.startswith(".") or not path.is_dir():
            continue
        checked["checkpoints"] += 1
        why = checkpoint_problem(project, path.name)
        if why and rel(project, path) not in current:
            found(Problem(rel(project, path), why), path)

    for path in sorted(layout.versions(build).glob("*.json")) if layout.versions(build).is_dir() else []:
        entry = storage.try_read_json(path)
        checked["versions"] += path.name != "tags.json"  # the tag file is checked, not counted as a version
        good = isinstance(entry, dict) if path.name == "tags.json" else (
            isinstance(entry, dict) and entry.get("id") == path.stem and isinstance(entry.get("manifests"), dict))
        if not good:
            found(Problem(rel(project, path), "not a recorded version"), path)

    stamp = layout.stamp(build)
    from . import fastpath

    if stamp.exists() and fastpath.load(project.root) is None:
        found(Problem(rel(project, stamp), "unreadable, or its seal does not match its content"), stamp)
    for path in [layout.version_marker(build)] + sorted(layout.runs(build).glob("*.json")):
        if path.exists() and not isinstance(storage.try_read_json(path), dict):
            found(Problem(rel(project, path), "not JSON"), path)

    why = catalog_problem(project)
    if why:
        path = layout.catalog(build)
        problem = Problem(rel(project, path), why)
        if repair:
            from .catalog import move_damaged, open_catalog

            move_damaged(path, why)
            open_catalog(project).close()  # a fresh one, with the recorded history restored
            problem.action = "moved aside; versions and tags restored"
        problems.append(problem)
    return {"ok": not problems, "checked": checked, "problems": problems}


def catalog_problem(project: "Project") -> str | None:
    """None when the catalog is absent or every table reads back (DuckDB checks block checksums)."""
    path = layout.catalog(project.build)
    if not path.exists():
        return None
    import duckdb

    from ..errors import LockError

    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise LockError(f"the catalog {path} is in use by another process",
                            "wait for the running build to finish") from None
        return f"does not open ({str(exc).splitlines()[0][:160]})"
    except duckdb.Error as exc:
        return f"does not open ({str(exc).splitlines()[0][:160]})"
    try:
        tables = [row[0] for row in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()]
        for table in tables:
            con.execute(f'SELECT count(*), max(hash("{table}")) FROM "{table}"').fetchall()
    except duckdb.Error as exc:
        return f"a table does not read back ({str(exc).splitlines()[0][:160]})"
    finally:
        con.close()
    return None
