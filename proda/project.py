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

from . import config as config_mod
from .errors import UsageError

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
    def config(self) -> config_mod.Config:
        return config_mod.load(self.config_path, self.overrides)

    def disciplines(self) -> list[str]:
        if not self.corpus.is_dir():
            return []
        return sorted(p.name for p in self.corpus.iterdir() if p.is_dir() and not p.name.startswith("."))

    def corpus_files(self, discipline: str) -> list[Path]:
        """Every candidate file of a discipline, sorted; symlink loops and dot-files are skipped."""
        base = self.corpus / discipline
        found: list[Path] = []
        for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                found.append(Path(dirpath) / name)
        return found

    def patch_files(self) -> list[Path]:
        if not self.patches.is_dir():
            return []
        return sorted(self.patches.glob("*.jsonl"))

    def rel(self, path: Path) -> str:
        return path.relative_to(self.corpus).as_posix()
