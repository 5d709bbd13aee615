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

import errno
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
    origin: str = "--set"  # where the overrides came from, for messages (or PRODA_SET)

    @classmethod
    def at(cls, root: str | Path, overrides: tuple[str, ...] = (), origin: str = "--set") -> "Project":
        path = Path(root).resolve()
        if not (path / "specs").is_dir():
            raise UsageError(
                f"{path} is not a proda project (no specs/ folder)",
                "run `proda init` there, or pass -C DIR to point at a project",
            )
        return cls(path, tuple(overrides), origin)

    specs = property(lambda self: self.root / "specs")
    corpus = property(lambda self: self.root / "specs" / "corpus")
    patches = property(lambda self: self.root / "specs" / "patches")
    config_path = property(lambda self: self.root / "specs" / "proda.toml")
    build = property(lambda self: self.root / "build")

    @cached_property
    def config(self) -> "Config":
        from . import config  # msgspec and the schema load when a command needs settings, not before

        return config.load(self.config_path, self.overrides, self.origin)

    def disciplines(self) -> list[str]:
        return list(self._disciplines)

    @cached_property
    def _disciplines(self) -> tuple[str, ...]:
        if not self.corpus.is_dir():
            return ()
        names = sorted(e.name for e in os.scandir(self.corpus) if e.is_dir() and not e.name.startswith("."))
        bad = [(name, why) for name in names if (why := discipline_name_problem(name))]
        if bad:
            name, why = bad[0]
            more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
            raise UsageError(f"specs/corpus/{name!r}{more}: {why}",
                             f"rename the folder, e.g. to {_suggest(name)!r}: a discipline's name is "
                             "its folder's name, used in task names and file names under build/")
        # a discipline folder that is (or holds, or sits in) another, through a link: the same
        # documents read twice, as two disciplines (or the whole corpus as one)
        reals = [(name, os.path.realpath(self.corpus / name) + os.sep) for name in names]
        corpus = os.path.realpath(self.corpus) + os.sep
        for i, (name, real) in enumerate(reals):
            if corpus.startswith(real):
                raise UsageError(f"specs/corpus/{name} links to specs/corpus itself (or above it): every "
                                 "discipline's documents would be read again under its name",
                                 "remove the link, or make it a folder of its own")
            for other, theirs in reals[i + 1:]:
                if real.startswith(theirs) or theirs.startswith(real):
                    raise UsageError(f"specs/corpus/{name} and specs/corpus/{other} share a folder (one links "
                                     "into the other): their documents would be read twice, as two disciplines",
                                     "remove the link, or make it a folder of its own")
        return tuple(names)

    def unread_specs(self) -> list[tuple[str, str]]:
        """Entries under specs/ that no build reads, and why — said by ``proda build``, since
        nothing else would: a file directly in specs/corpus/ (documents live in a discipline's
        folder), a link there to nothing, a file in specs/patches/ that is not ``.jsonl``, and
        a corpus with no discipline folder at all."""
        out = [] if self.disciplines() else [("specs/corpus/", "no discipline folder: nothing to build (put each "
                                                               "discipline's documents in specs/corpus/<discipline>/)")]
        for folder, rule in ((self.corpus, "corpus"), (self.patches, "patches")):
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError:
                continue
            for e in entries:
                if e.name.startswith(".") or e.name.lower().startswith("readme"):
                    continue
                where = f"specs/{rule}/{e.name}"
                if rule == "corpus" and not e.is_dir():
                    out.append((where, "a link to nothing" if e.is_symlink() and not os.path.exists(e.path)
                                else "not in a discipline folder: move it into specs/corpus/<discipline>/"))
                elif rule == "patches" and not e.name.endswith(".jsonl"):
                    out.append((where, "not a patch file: patch files end in .jsonl"))
        return out

    @cached_property
    def _roots(self) -> tuple[str, ...]:
        """Where corpus files may resolve: the project, and the folders ``ingest.roots`` names."""
        extra = self.config.ingest.roots
        return (os.path.realpath(self.root),) + tuple(os.path.realpath(self.root / r) for r in extra)

    def corpus_entries(self, discipline: str) -> list[tuple[str, str]]:
        """(path, "") for every regular file of a discipline inside the project, (path, why) for
        every entry skipped — a link out of the project, a FIFO, a device, a socket, a folder link
        — sorted by path; dot-files are not listed, links to folders are not followed."""
        return _scan(str(self.corpus / discipline), self._roots)

    def corpus_files(self, discipline: str) -> list[Path]:
        """Every entry of a discipline that ingest accounts for (read, or dropped with a reason)."""
        return [Path(p) for p, _ in self.corpus_entries(discipline)]

    def corpus_deps(self, discipline: str) -> list[str]:
        """The regular files of a discipline, as strings: what doit tracks (no Path objects, no
        extra stat calls — this runs on every build that is not a no-op)."""
        return [p for p, why in self.corpus_entries(discipline) if not why]

    def patch_files(self) -> list[Path]:
        if not self.patches.is_dir():
            return []
        return sorted(self.patches.glob("*.jsonl"))

    def rel(self, path: str | Path) -> str:
        """``path`` relative to specs/corpus, posix; a prefix test on the strings first (ingest asks
        once per file, and PurePath.relative_to costs about 0.1 ms)."""
        text, prefix = str(path), self._corpus_prefix
        if os.sep == "/" and text.startswith(prefix):
            return text[len(prefix):]
        return Path(path).relative_to(self.corpus).as_posix()

    @cached_property
    def _corpus_prefix(self) -> str:
        return str(self.corpus) + os.sep


RESERVED = {"patches": "synth's shard of debugger patches"}


def discipline_name_problem(name: str) -> str | None:
    """Why a corpus folder name cannot name a discipline (None if it can)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "the folder name is not valid UTF-8"
    if "=" in name:
        return "a discipline name cannot contain '=' (doit reads NAME=VALUE as a parameter)"
    if not name.isprintable() or name != name.strip():
        return "a discipline name cannot contain control characters or start or end with spaces"
    if name in RESERVED:
        return f"{name!r} is reserved ({RESERVED[name]})"
    return None


def _suggest(name: str) -> str:
    import re

    clean = re.sub(r"[^\w.+-]+", "-", name.encode("utf-8", "replace").decode("utf-8", "replace")).strip("-")
    return clean + "-corpus" if clean in RESERVED or not clean else clean


def _special(mode: int) -> str:
    import stat

    for test, what in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISDIR, "a link to a folder (folder links are not followed)")):
        if test(mode):
            return what
    return "not a regular file"


def _inside(real: str, roots: tuple[str, ...]) -> bool:
    return any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def _scan(folder: str, roots: tuple[str, ...]) -> list[tuple[str, str]]:
    """(path, "") for every regular file under ``folder`` that resolves inside ``roots``, and
    (path, why) for every other entry, sorted by path, via os.scandir (d_type: no stat for plain
    files; links are resolved, specials identified by one stat)."""
    real = os.path.realpath(folder)
    if not _inside(real, roots):  # a discipline folder that is a link out of the project
        return [(folder, f"outside: links to {real}, outside the project (ingest.roots names other folders)")]
    out: list[tuple[str, str]] = []
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return out
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                out.extend(_scan(entry.path, roots))
                continue
            if entry.is_symlink():
                target = os.path.realpath(entry.path)
                if not _inside(target, roots):
                    out.append((entry.path, f"outside: links to {target}, outside the project "
                                            "(ingest.roots names other folders)"))
                    continue
            if entry.is_file():  # follows a link to a file; a loop or dangling link is not one
                out.append((entry.path, ""))
                continue
            why = "not_regular: " + _special(os.stat(entry.path).st_mode)
        except OSError as exc:
            why = "unreadable: " + ("a symlink loop" if exc.errno == errno.ELOOP else "a dangling link"
                                    if exc.errno == errno.ENOENT else (exc.strerror or str(exc)))
        out.append((entry.path, why))
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
    """Scaffold a project in ``directory``. Never overwrites a file: if one that init would write
    exists with other content, nothing is written and the error lists them."""
    directory = directory.resolve()
    specs = directory / "specs"
    if (specs / "proda.toml").exists():
        raise UsageError(f"{directory} already holds a proda project (specs/proda.toml); nothing was changed",
                         f"use it as it is (`proda build -C {directory}`), or give another folder to start "
                         "a new project")
    files: dict[Path, bytes] = {directory / "dodo.py": DODO.encode()}
    if example:
        source = example_specs()
        for path in sorted((source / "corpus").rglob("*")):
            if path.is_file():
                files[specs / "corpus" / path.relative_to(source / "corpus")] = path.read_bytes()
        files[specs / "proda.toml"] = (source / "proda.toml").read_bytes()
    else:
        files[specs / "proda.toml"] = TOML.format(name=directory.name).encode()
    clashes = [p for p, data in files.items() if (p.exists() or p.is_symlink()) and
               (not p.is_file() or p.read_bytes() != data)]
    if clashes:
        shown = ", ".join(str(p.relative_to(directory)) for p in clashes[:5])
        more = f" and {len(clashes) - 5} more" if len(clashes) > 5 else ""
        raise UsageError(f"proda init would overwrite {shown}{more} in {directory}",
                         "init never overwrites a file: move them away, or choose another folder")
    (specs / "corpus").mkdir(parents=True, exist_ok=True)
    (specs / "patches").mkdir(parents=True, exist_ok=True)
    for path, data in files.items():
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    gitignore = directory / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text("build/\n")
    return directory
