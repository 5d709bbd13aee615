"""Speed of the contamination check at the paper's scale: 16k items x 160k samples.

Run: ``python tests/perf/orthogonality.py [--items N] [--samples M]``; prints one JSON line
``{"items", "samples", "seconds", "samples_per_s", "contaminated"}``. Texts are random words from a
20k-word vocabulary (seeded); 1% of the samples carry a planted item answer, so the hit path is timed too.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # runnable from a checkout, installed or not

from proda.records import Item, Option, Sample, make
from proda.synth.orthogonality import contaminated


def _corpus(n_items: int, n_samples: int, seed: int = 0) -> tuple[list[Item], list[Sample]]:
    rng = random.Random(seed)
    vocab = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 10)))
             for _ in range(20_000)]

    def text(k: int) -> str:
        return " ".join(rng.choices(vocab, k=k)).capitalize() + "."

    items = []
    for i in range(n_items):
        options = [Option(text=text(14), operator=op, reason="")
                   for op in ("", "adjacency", "inversion", "truncation")]
        items.append(make(Item, discipline=f"d{i % 16}", chain=f"c{i}", doc=f"doc{i % 500}", statements=[],
                          concepts=[], variant="conclusion", split="dev", stem=text(90), options=options,
                          answer=0))
    samples = []
    for j in range(n_samples):
        response = text(70)
        if j % 100 == 0:  # planted: the sample restates an item's answer
            response += " " + items[j % n_items].options[0].text
        samples.append(make(Sample, discipline=f"d{j % 16}", format="open", prompt=text(14), response=response,
                            statements=[], concepts=[], origin="synth", source=""))
    return items, samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=16_000)
    parser.add_argument("--samples", type=int, default=160_000)
    parser.add_argument("--ngram", type=int, default=13)
    args = parser.parse_args()
    items, samples = _corpus(args.items, args.samples)
    start = time.perf_counter()
    found = contaminated(items, samples, args.ngram)
    seconds = time.perf_counter() - start
    print(json.dumps({"items": len(items), "samples": len(samples), "seconds": round(seconds, 3),
                      "samples_per_s": round(len(samples) / seconds), "contaminated": len(found)}))


if __name__ == "__main__":
    main()
