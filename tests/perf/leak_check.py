"""The issue's orthogonality check, written independently of proda/synth/orthogonality.py, on a
built project: one JSON line.

Run: ``python tests/perf/leak_check.py DIR`` (after ``proda demo DIR``, or any build with patches).

Texts are reduced to letters (lower-case; "(1)", "[2]", "(a)" markers dropped; every non-letter a
separator). Counted over every training sample the build holds (synth, patch, replay), against every
item of both splits (stem and every option):

- ``shared_13``: samples sharing a 13-word run with any item text;
- ``answers_8plus``: samples containing a whole item answer of 8 or more words;
- ``answers_in_patch``: item answers (any length >= 8) found whole in the patch samples, per split —
  the figure the issue quoted for the old debugger (362 of 363 failed dev answers).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from proda.engine import outputs  # noqa: E402
from proda.project import Project  # noqa: E402

_MARK = re.compile(r"[(\[]\s*(?:\d{1,3}|[a-z]|[ivxlc]{1,5})\s*[)\]]")


def reduce(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]+", _MARK.sub(" ", text.lower()))


def main() -> None:
    project = Project.at(Path(sys.argv[1]))
    items = outputs.items(project)
    samples = outputs.samples(project)
    grams: set[tuple[str, ...]] = set()
    answers: dict[str, str] = {}
    for it in items:
        for text in [it.stem, *(o.text for o in it.options)]:
            w = reduce(text)
            grams.update(tuple(w[i:i + 13]) for i in range(len(w) - 12))
        a = reduce(it.options[it.answer].text)
        if len(a) >= 8:
            answers[" ".join(a)] = it.split
    shared = whole = 0
    in_patch = {"dev": 0, "holdout": 0}
    for s in samples:
        w = reduce(s.prompt + "\n" + s.response)
        if any(tuple(w[i:i + 13]) in grams for i in range(len(w) - 12)):
            shared += 1
        joined = f" {' '.join(w)} "
        hits = [split for a, split in answers.items() if f" {a} " in joined]
        whole += bool(hits)
        if s.origin == "patch":
            for split in set(hits):
                in_patch[split] += 1
    print(json.dumps({"samples": len(samples), "patch_samples": sum(s.origin == "patch" for s in samples),
                      "items": len(items), "answers_8plus_words": len(answers), "shared_13": shared,
                      "answers_8plus": whole, "patch_samples_with_an_answer": in_patch}, sort_keys=True))


if __name__ == "__main__":
    main()
