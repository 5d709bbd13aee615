"""``proda init``: a new project folder, empty or with the bundled example project."""

from __future__ import annotations

import shutil
from pathlib import Path

from .errors import UsageError

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
