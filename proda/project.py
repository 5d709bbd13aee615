"""A project on disk: where specs, corpus, patches and build outputs live, and its config.

The layout is the contract users and checks rely on::

    specs/proda.toml          build config
    specs/corpus/<discipline>/...  the specification (txt, md, html, jsonl, pdf)
    specs/patches/*.jsonl     debugger patches (reviewable source edits)
    build/                    derived, deletable
"""

from __future__ import annotations

import os
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
    catalog_path = property(lambda self: self.root / "build" / "proda.duckdb")

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
