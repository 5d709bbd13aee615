"""The `lora` trainer inside a real `proda build`: a local base model (built here, no download),
adapters as checkpoints, scoring through the adapter, and the base weights in the recipe."""

from __future__ import annotations

import json
import shutil

import pytest

from proda.make import build, status
from proda.project import Project
from proda.project import example_specs, init_project

pytestmark = pytest.mark.slow


def test_lora_build_end_to_end_and_base_weights_in_the_key(tmp_path):
    from synthetic import random_llama

    corpus = example_specs() / "corpus" / "physics"
    base = random_llama(tmp_path / "base", [p.read_text() for p in sorted(corpus.glob("*.md"))],
                        hidden=64, layers=2, heads=2, vocab_size=600, max_positions=256)
    root = tmp_path / "p"
    init_project(root)
    shutil.copytree(corpus, root / "specs" / "corpus" / "physics")
    (root / "specs" / "proda.toml").write_text(
        f'[compile]\ntrainer = "lora"\nbase_model = "{base}"\nepochs = 1\nlora_rank = 4\ncutoff_len = 256\n'
        'target_modules = ["q_proj", "v_proj"]\n')
    project = Project.at(root)
    result = build(project)
    assert result["stages"]["compile"]["built"] == 1 and result["stages"]["test"]["built"] > 0
    key = json.loads((project.build / "compile" / "all.json").read_text())["extra"]["checkpoint"]
    checkpoint = project.build / "checkpoints" / key
    assert (checkpoint / "adapter_config.json").exists() and (checkpoint / "proda.json").exists()

    # new base weights -> compile (and test) are stale, nothing upstream is
    weights = base / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    stale = {s["stage"] for s in status(Project.at(root))["stale"]}
    assert "compile" in stale and not stale & {"ingest", "chunk", "extract", "bench", "synth"}
