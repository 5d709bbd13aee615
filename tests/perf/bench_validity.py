"""Does the benchmark measure knowledge? Option-only baselines per split, shared text, and the V1
model's accuracy with and without the question.

Builds a project in a temporary folder — the bundled example (default) or one whose corpus is
``--corpus DIR`` (a folder of discipline folders, e.g. ../shared/corpus/openstax) — up to ``bench``,
and reports what each option-only baseline scores on ``dev`` and ``holdout`` (proda/bench/baselines.py),
the chance level, the sentences both splits share and the items dropped. With ``--train`` it also
compiles V1 and scores every item with its stem (``acc``) and without it (the options alone, lm-eval's
unconditional log-likelihood): what the question adds is the difference. ``classifier_checks``: the
classifier refit on 20 other partitions of each split into folds, each split scored by a model fit
on the other, and the heaviest weights fit on each (a tell of the item builder carries from one
split to the other; a pattern of one split's items does not), and ``null``: the cross-fitted
figure against 100 benchmarks of the same items with random answers — how far above chance a
tell-free benchmark of this size lands, and the permutation p-value of the observed figure
(``--permutations 0`` leaves it out; 100 take about a minute per split); ``both_splits``: the same
over both splits' items at once (twice the items, half the noise's variance: a tell of the item
builder is in both splits, a pattern of one split's draw is not). Prints one JSON line.

    python tests/perf/bench_validity.py                      # example project, bench only (~30 s)
    python tests/perf/bench_validity.py --train              # + V1 with/without the question (~3 min)
    python tests/perf/bench_validity.py --corpus ../shared/corpus/openstax
    python tests/perf/bench_validity.py --project DIR        # an already built project
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from proda.bench import baselines
from proda.bench.split import shared_sentences, split_texts
from proda.engine.outputs import current_checkpoint, items as all_items, knowledge, read_manifest
from proda.project import Project
from proda.records import Item


def _run(args: list[str]) -> None:
    from click.testing import CliRunner

    from proda.cli import main

    result = CliRunner().invoke(main, args, catch_exceptions=False)
    if result.exit_code != 0:
        sys.exit(f"proda {' '.join(args)} failed ({result.exit_code}): {result.output}")


def _project(folder: Path, corpus: Path | None) -> Path:
    root = folder / "project"
    _run(["init", str(root), "--example"])
    if corpus is not None:
        shutil.rmtree(root / "specs" / "corpus")
        shutil.copytree(corpus, root / "specs" / "corpus")  # read into a temp copy, never the repository
    return root


def _dropped(project: Project) -> int:
    total = 0
    for d in project.disciplines():
        manifest = read_manifest(project.build, "bench", d) or {"kinds": {}}
        total += manifest["kinds"].get("droppeditem", 0)
    return total


def _accuracy(project: Project, items: list[Item]) -> dict:
    """V1's accuracy per split with the stem and with the options alone (lm-eval's unconditional
    request: empty context, the option as continuation)."""
    from proda.score import get_scorer, predictions
    from proda.engine.outputs import checkpoint_dir
    from proda.score.results import score_mc
    from proda.text.format import option_continuation

    checkpoint = current_checkpoint(project)
    cfg = project.config.test
    with_q = predictions(score_mc(project, checkpoint, [(i.stem, [o.text for o in i.options]) for i in items]))
    alone = get_scorer(cfg.scorer)(checkpoint_dir(project, checkpoint),
                                   [("", [option_continuation(o.text) for o in i.options]) for i in items],
                                   batch_size=cfg.batch_size, normalise=cfg.normalise)
    without_q = predictions(alone)
    out = {}
    for split in ("all", "dev", "holdout"):
        rows = [(a, b, i.answer) for a, b, i in zip(with_q, without_q, items) if split in ("all", i.split)]
        n = max(1, len(rows))
        acc = sum(a == t for a, _, t in rows) / n
        bare = sum(b == t for _, b, t in rows) / n
        out[split] = {"n": len(rows), "with_question": round(acc, 4), "without_question": round(bare, 4),
                      "question_adds": round(acc - bare, 4)}
    return {"checkpoint": checkpoint, **out}


def classifier_checks(items: list[Item], refolds: int = 20, permutations: int = 100) -> dict:
    """Is the classifier's figure a tell of the item builder or a pattern of one split's items?
    Its cross-fitted figure over ``refolds`` other partitions of each split into folds (by
    document), each split scored by a model fit on the other, and the heaviest weights of a model
    fit on each split (standardised features): a tell carries from one split to the other."""
    examples = {s: [(baselines.features(i.stem, [o.text for o in i.options]), i.answer, i.doc)
                    for i in items if i.split == s] for s in ("dev", "holdout")}

    out: dict = {}
    for split, other in (("dev", "holdout"), ("holdout", "dev")):
        rows = examples[split]
        if not rows or not examples[other]:
            continue
        figures = [baselines.cross_fitted(rows, (f"refold{r}",)) for r in range(refolds)]
        model = baselines.fit([r[:2] for r in rows])
        out[split] = {"refolded": {"min": round(min(figures), 4), "mean": round(sum(figures) / len(figures), 4),
                                   "max": round(max(figures), 4), "partitions": refolds},
                      f"fit_here_scored_on_{other}": round(baselines.classifier_score(model, [r[:2] for r in examples[other]]), 4),
                      "weights": {n: round(float(w), 3) for n, w in
                                  sorted(zip(baselines.FEATURES, model[0]), key=lambda t: -abs(t[1]))[:4]} if model else {},
                      "null": baselines.permutation_null(rows, permutations) if permutations else None}
    # one split's ~100 items leave a tell-free figure ~3 points of sd; both splits' items together
    # halve the variance: a tell of the item builder is in both, a pattern of one split's draw is not
    both = examples["dev"] + examples["holdout"]
    if permutations and examples["dev"] and examples["holdout"]:
        out["both_splits"] = {"items": len(both), "null": baselines.permutation_null(both, permutations)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--project", type=Path, help="an already built project (nothing is built)")
    parser.add_argument("--corpus", type=Path, help="a folder of discipline folders to build instead of the example")
    parser.add_argument("--train", action="store_true", help="also compile V1 and score with/without the question")
    parser.add_argument("--permutations", type=int, default=100, help="random-answer benchmarks for the classifier's null (0: none)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="proda-validity-") as tmp:
        seconds = None
        if args.project:
            root = args.project
        else:
            root = _project(Path(tmp), args.corpus)
            started = time.perf_counter()
            _run(["-C", str(root), "build", "--until", "bench"])
            seconds = round(time.perf_counter() - started, 2)
        project = Project.at(root)
        items = all_items(project)
        chains = knowledge(project).chains
        counts = {s: sum(i.split == s for i in items) for s in ("dev", "holdout")}
        options = sorted({len(i.options) for i in items})
        intervals: dict = {}
        option_only = baselines.option_only(items, intervals)
        result = {
            "project": str(args.corpus or args.project or "example"),
            "items": counts,
            "disciplines": {d: {s: sum(i.split == s and i.discipline == d for i in items) for s in ("dev", "holdout")}
                            for d in sorted({i.discipline for i in items})},
            "chance": round(sum(1 / len(i.options) for i in items) / max(1, len(items)), 4),
            "option_counts": options,
            "option_only": option_only,
            "intervals": intervals,
            "classifier_checks": classifier_checks(items, permutations=args.permutations),
            "shared_sentences": shared_sentences(split_texts(items, chains)),
            # section headings the stems name ("Consider the process: ..."): not sentences, not counted above
            "shared_headings": shared_sentences({s: [chains[i.chain].process for i in items if i.split == s and i.chain in chains]
                                                 for s in ("dev", "holdout")}),
            "dropped_items": _dropped(project),
            "build_until_bench_seconds": seconds,
        }
        if args.train:
            if not args.project:
                _run(["-C", str(root), "build"])
            result["v1"] = _accuracy(project, items)
        print(json.dumps(result))


if __name__ == "__main__":
    main()
