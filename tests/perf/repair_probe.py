"""Where does a repair stop transferring? One JSON line of V1 and V2 accuracy on the same facts in
four wordings, for a project after ``proda demo`` (or build → tag v1 → debug → build → tag v2).

Run: ``python tests/perf/repair_probe.py DIR [--from v1] [--to v2]``.

- ``patch_trained``: the patch's own mcq and tf samples, asked as questions (what V2 was trained on);
- ``patch_unseen``: other lessons about the same failures in the patch's templates, not in the patch
  (the same facts, a wording family V2 saw, sentences it did not);
- ``probes``: the debugger's probes of the dev items V1 failed (the same nodes, probe wording);
- ``dev_failed`` / ``holdout_related`` / ``holdout_unrelated``: the benchmark items (the corpus's
  wording) — as ``proda diff`` reports them.

A model that learns the facts only in the patch's wording gains on the first two rows and not on the
last ones.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from proda.debugger import diagnosis as DIAG, patch as PATCH, probes as PROBES  # noqa: E402
from proda.engine import outputs, versions  # noqa: E402
from proda.extract.graph import concepts_by_doc  # noqa: E402
from proda.project import Project  # noqa: E402
from proda.records import Diagnosis, make  # noqa: E402
from proda.score import predictions  # noqa: E402
from proda.score.results import score_mc  # noqa: E402
from proda.synth.orthogonality import Rule  # noqa: E402
from proda.synth.patchfile import read_patch  # noqa: E402

_OPTION = re.compile(r"^\(([a-h])\) (.*)$")


def as_question(s) -> tuple[str, list[str], int] | None:
    """(stem, options, answer) of an mcq or tf sample, as the scorer asks items."""
    if s.format == "tf":
        claim = s.prompt.split(": ", 1)[-1] if ": " in s.prompt else s.prompt.split("? ", 1)[-1]
        return claim, ["True", "False"], 0 if s.response.startswith("True") else 1
    if s.format != "mcq":
        return None
    lines = s.prompt.split("\n")
    options = [m.group(2) for line in lines[1:] if (m := _OPTION.match(line))]
    answer = next((i for i, o in enumerate(options) if s.response.startswith(o[:1].upper() + o[1:])), None)
    return (lines[0], options, answer) if options and answer is not None else None


def accuracy(project, checkpoint, questions) -> float:
    if not questions:
        return 0.0
    chosen = predictions(score_mc(project, checkpoint, [(q, o) for q, o, _ in questions]))
    return round(sum(c == a for c, (_, _, a) in zip(chosen, questions)) / len(questions), 4)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("project")
    ap.add_argument("--from", dest="a", default="v1")
    ap.add_argument("--to", dest="b", default="v2")
    args = ap.parse_args()
    project = Project.at(Path(args.project))
    from proda.engine.catalog import open_catalog
    from proda.report.diff import diff

    with open_catalog(project) as cat:
        ck = {}
        for ref in (args.a, args.b):
            vid = versions.resolve(project, cat, ref)
            ck[ref] = versions.version_manifests(cat, vid)["test:all"]["extra"]["checkpoint"]
    header, samples = read_patch(project.patch_files()[-1])
    patch = [s for s in samples if s.origin == "patch"]
    trained = [q for s in patch if (q := as_question(s))]

    every = outputs.items(project)
    by_key = {i.key: i for i in every}
    known = outputs.knowledge(project)
    by_doc = concepts_by_doc(known.statements, list(known.concepts.values()))
    rule = Rule(every, project.config.synth.ngram)
    taught = {s.prompt for s in samples}
    unseen, probe_qs = [], []
    for d in header["diagnoses"]:
        item = by_key.get(d["item"])
        if item is None:
            continue
        chain = known.chains[item.chain]
        statements = [known.statements[k] for k in item.statements if k in known.statements]
        concepts = [known.concepts[k] for k in item.concepts if k in known.concepts]
        pool = list({c.key: c for c in concepts + by_doc.get(item.doc, [])}.values())
        chosen = next(i for i, o in enumerate(item.options) if o.text == d["confused_with"])
        diag = make(Diagnosis, checkpoint=header["created_from"], item=item.key, discipline=item.discipline,
                    label=d["label"], chain=item.chain, nodes=d["nodes"], confused_with=d["confused_with"],
                    evidence=d.get("evidence", {}))
        more = PATCH.patch_samples(diag, item, chain, statements, pool, DIAG.confused_concepts(item, chosen, pool),
                                   n=80, mix=[0, 3, 1], patch_name="probe", rule=rule)
        unseen += [q for s in more if s.prompt not in taught and (q := as_question(s))]
        probe_qs += [(p.stem, p.options, p.answer) for p in
                     PROBES.probes_for_item(item, chain, statements, concepts, by_doc.get(item.doc, []),
                                            ngram=project.config.synth.ngram)]
    unseen = list({q[0] + "|" + "|".join(q[1]): q for q in unseen}.values())
    groups = diff(project, args.a, args.b)["groups"]
    out = {}
    for name, qs in (("patch_trained", trained), ("patch_unseen", unseen), ("probes", probe_qs)):
        out[name] = {"n": len(qs), "from": accuracy(project, ck[args.a], qs), "to": accuracy(project, ck[args.b], qs)}
    for name in ("dev_failed", "holdout_related", "holdout_unrelated"):
        g = groups[name]
        out[name] = {"n": g["n"], "from": g["from"], "to": g["to"]}
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
