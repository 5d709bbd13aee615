"""Shared fixtures: isolated temp projects built from a dict in one call (dvc's gen({...}))."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_CORPUS = ROOT.parent / "shared" / "corpus" / "openstax"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SENTENCES = [
    "{T} heat flows from a hot body to a cold body because molecules in the hot {t} body move faster.",
    "The faster {t} molecules collide with slower ones, which transfers kinetic energy to the {t} sample.",
    "As a result, the temperature of the cold {t} body increases, so the two bodies approach equilibrium.",
    "Therefore {t} equilibrium is reached when no net energy flows between the {t} bodies.",
    "{T} conduction is a process that transfers heat through direct contact between {t} particles.",
    "A {t} metal conducts heat well because free electrons carry energy quickly through the {t} lattice.",
    "{T} insulation reduces heat loss because trapped air decreases conduction in the {t} wall.",
    "Convection in the {t} fluid requires a temperature difference, which causes density differences.",
    "Warm {t} fluid rises because it is less dense, so cooler {t} fluid sinks and a current forms.",
]


def doc(topic: str, n: int = 3) -> str:
    """A small explanatory document that passes the quality filter; topics make texts distinct."""
    import zlib

    seed = zlib.crc32(topic.encode())
    paragraphs = []
    for p in range(n):
        order = sorted(range(len(SENTENCES)), key=lambda i: (i * 7 + seed + p) % len(SENTENCES))
        paragraphs.append(" ".join(SENTENCES[i].format(t=f"{topic}{p}", T=f"{topic.title()}{p}")
                                   for i in order[:7]))
    return f"# {topic.title()}\n\n" + "\n\n".join(paragraphs) + "\n"


def gen(root: Path, tree: dict) -> None:
    for name, content in tree.items():
        path = root / name
        if isinstance(content, dict):
            path.mkdir(parents=True, exist_ok=True)
            gen(path, content)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")


@pytest.fixture
def make_project(tmp_path):
    """make_project({"physics": {"a.md": "..."}}, toml="...") -> Project."""
    from proda.project import Project
    from proda.project import init_project

    def factory(corpus: dict, toml: str = "", name: str = "proj") -> Project:
        root = tmp_path / name
        init_project(root)
        gen(root / "specs" / "corpus", corpus)
        if toml:
            (root / "specs" / "proda.toml").write_text(toml)
        return Project.at(root)

    return factory


@pytest.fixture
def proda_cli():
    """Run the real `proda` command line in a subprocess."""
    import subprocess

    def run(*args, cwd=None, check=True, env=None):
        proc = subprocess.run([sys.executable, "-m", "proda", *args], cwd=cwd, capture_output=True,
                              text=True, env={**os.environ, **(env or {})})
        if check and proc.returncode != 0:
            raise AssertionError(f"proda {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        return proc

    return run
