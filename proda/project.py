"""A project on disk: where specs, corpus, patches and build outputs live, and its config.

The layout is the contract users and checks rely on::

    specs/proda.toml          build config
    specs/corpus/<discipline>/...  the specification (txt, md, html, jsonl, pdf)
    specs/patches/*.jsonl     debugger patches (reviewable source edits)
    build/                    derived, deletable (every path in it: proda/engine/layout.py)
    dodo.py                   doit entry point

``init_project`` makes that layout (``proda init``), empty or with the bundled example project.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import UsageError

if TYPE_CHECKING:
    from .config import Config

CORPUS_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".jsonl", ".pdf")


@dataclass
class Project:
    root: Path
    overrides: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def at(cls, root: str | Path, overrides: tuple[str, ...] = ()) -> "Project":
        path = Path(root).resolve()
        if not (path / "specs").is_dir():
            raise UsageError(
                f"{path} is not a proda project (no specs/ folder)",
                "run `proda init` there, or pass -C DIR to point at a project",
            )
        return cls(path, tuple(overrides))

    specs = property(lambda self: self.root / "specs")
    corpus = property(lambda self: self.root / "specs" / "corpus")
    patches = property(lambda self: self.root / "specs" / "patches")
    config_path = property(lambda self: self.root / "specs" / "proda.toml")
    build = property(lambda self: self.root / "build")

    @cached_property
    def config(self) -> "Config":
        from . import config  # msgspec and the schema load when a command needs settings, not before

        return config.load(self.config_path, self.overrides)

    def disciplines(self) -> list[str]:
        return list(self._disciplines)

    @cached_property
    def _disciplines(self) -> tuple[str, ...]:
        if not self.corpus.is_dir():
            return ()
        return tuple(sorted(e.name for e in os.scandir(self.corpus)
                            if e.is_dir() and not e.name.startswith(".")))

    def corpus_files(self, discipline: str) -> list[Path]:
        """Every candidate file of a discipline, sorted (dot-files skipped; folder links not followed)."""
        return [Path(p) for p, _ in _scan(str(self.corpus / discipline))]

    def corpus_deps(self, discipline: str) -> list[str]:
        """The regular files of a discipline, as strings: what doit tracks (no Path objects, no
        extra stat calls — this runs on every no-op build)."""
        return [p for p, regular in _scan(str(self.corpus / discipline)) if regular]

    def patch_files(self) -> list[Path]:
        if not self.patches.is_dir():
            return []
        return sorted(self.patches.glob("*.jsonl"))

    def rel(self, path: Path) -> str:
        return path.relative_to(self.corpus).as_posix()


def _scan(folder: str) -> list[tuple[str, bool]]:
    """(path, is a regular file) for everything under ``folder``, sorted by path, via os.scandir."""
    out: list[tuple[str, bool]] = []
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return out
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                out.extend(_scan(entry.path))
                continue
            regular = entry.is_file()  # follows a link to a file; a loop or dangling link is not one
        except OSError:
            regular = False
        out.append((entry.path, regular))
    return out


# -- proda init ------------------------------------------------------------------------------

DODO = '''"""doit entry point: `doit list`, `doit`, `doit info TASK` run the same tasks as `proda build`."""
from proda.tasks import load_dodo

globals().update(load_dodo(__file__))
'''

TOML = '''# proda project settings; every key and its default: docs/config.md
name = "{name}"

[chunk]
size = 1200
'''


def example_specs() -> Path:
    """The example project's specs/: package data in a wheel, the repository's specs/ in a checkout."""
    packaged = Path(__file__).parent / "example" / "specs"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parent.parent / "specs"
    if (checkout / "corpus").is_dir():
        return checkout
    raise UsageError("the example project is not installed with this copy of proda",
                     "reinstall proda from its wheel or checkout")


def init_project(directory: Path, example: bool = False) -> Path:
    directory = directory.resolve()
    specs = directory / "specs"
    if (specs / "proda.toml").exists():
        raise UsageError(f"{directory} already holds a proda project", "choose an empty folder")
    directory.mkdir(parents=True, exist_ok=True)
    if example:
        source = example_specs()
        shutil.copytree(source / "corpus", specs / "corpus", dirs_exist_ok=True)
        shutil.copy2(source / "proda.toml", specs / "proda.toml")
    else:
        (specs / "corpus").mkdir(parents=True, exist_ok=True)
        (specs / "proda.toml").write_text(TOML.format(name=directory.name))
    (specs / "patches").mkdir(parents=True, exist_ok=True)
    (directory / "dodo.py").write_text(DODO)
    gitignore = directory / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text("build/\n")
    return directory
