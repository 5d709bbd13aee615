"""Fast start: `proda --help` and `proda status` never import torch, transformers, vllm or peft."""

from __future__ import annotations

import subprocess
import sys

from conftest import doc

PROBE = """
import sys
from proda.cli import main
sys.argv = ["proda", *{args!r}]
try:
    main()
except SystemExit:
    pass
heavy = {{"torch", "transformers", "vllm", "peft", "tokenizers"}} & set(sys.modules)
print("HEAVY", sorted(heavy))
"""


def _heavy(args, cwd):
    out = subprocess.run([sys.executable, "-c", PROBE.format(args=list(args))], cwd=cwd, capture_output=True, text=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("HEAVY"))
    return line


def test_help_and_status_stay_light(make_project):
    from proda.make import build

    project = make_project({"physics": {"a.md": doc("alpha")}})
    assert _heavy(["--help"], project.root) == "HEAVY []"
    assert _heavy(["status"], project.root) == "HEAVY []"  # before any build: explains through doit
    build(project, until="synth")
    assert _heavy(["status", "--json"], project.root) == "HEAVY []"
    assert _heavy(["stats", "--json"], project.root) == "HEAVY []"
