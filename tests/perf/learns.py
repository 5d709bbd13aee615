"""Does the compiled model learn its training data? A probe of training facts, against chance.

For up to ``--n`` synthesized training samples of the project, a 4-option question: the sample's
prompt, its own response, and the responses of three other samples of the same discipline and
format. Scored with proda's log-likelihood scorer against the base (V1) checkpoint. Prints one
JSON line with the accuracy and the chance level.

    python tests/perf/learns.py --project DIR        # a built project, e.g. after `proda demo DIR`
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from proda.engine.outputs import load_shard, read_manifest
from proda.score.results import score_mc
from proda.hashing import digest
from proda.project import Project
from proda.records import Sample
from proda.score import predictions


def probe(project: Project, checkpoint: str, n: int) -> dict:
    samples = [s for d in project.disciplines() for s in load_shard(project.build, "synth", d)
               if isinstance(s, Sample) and s.format == "open"]
    samples.sort(key=lambda s: digest(["probe", s.key]))
    chosen = samples[:n]
    questions, answers = [], []
    for s in chosen:
        pool = [o for o in samples if o.discipline == s.discipline and o.key != s.key and o.response != s.response]
        pool.sort(key=lambda o: digest([s.key, o.key]))
        options = [s.response] + [o.response for o in pool[:3]]
        order = sorted(range(len(options)), key=lambda i: digest([s.key, i]))
        questions.append((s.prompt, [options[i] for i in order]))
        answers.append(order.index(0))
    right = sum(p == a for p, a in zip(predictions(score_mc(project, checkpoint, questions)), answers))
    return {"probe_items": len(chosen), "accuracy": round(right / max(1, len(chosen)), 4), "chance": 0.25,
            "checkpoint": checkpoint}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--project", type=Path, required=True)
    parser.add_argument("--n", type=int, default=400)
    args = parser.parse_args()
    project = Project.at(args.project)
    base = read_manifest(project.build, "compile", "all")["extra"]["lineage"][0]  # V1: the base checkpoint
    print(json.dumps(probe(project, base, args.n)))


if __name__ == "__main__":
    main()
