"""``proda report``: accuracy per version, and an HTML page that draws it.

:func:`report` gathers everything the page shows into one object (``proda report --json`` prints
it): tested versions by tag with their accuracy per split and discipline, the chance level of the
benchmark, the training loss of every checkpoint (named by the versions it belongs to, steps
counted from the base checkpoint), the debugger's diagnoses per checkpoint, and — when the data
exist — the repair of the first tested version against the last (``proda diff``: the repair groups
with n, from, to, delta, 95% interval and McNemar p, the fix rate beyond churn, the regression
suites; proda/report/groups.py) and the validity baselines of the benchmark (``proda stats``). :func:`render_html` draws exactly that object, so a
test can check the page against ``--json``. The page is self-contained: inline SVG, no scripts,
no network.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..engine import versions
from . import svg

if TYPE_CHECKING:
    from ..project import Project

SPLITS = ("all", "dev", "holdout")
GROUP_LABELS = {"dev_failed": "dev, failed before (diagnosed)", "dev_targeted": "dev, failed, taught (repair)",
                "dev_untargeted": "dev, failed, not taught (churn)", "dev_passed": "dev, passed before (retention)",
                "holdout_related": "holdout, related (transfer)", "holdout_unrelated": "holdout, unrelated (control)",
                "holdout_failed": "holdout, failed before (churn)", "holdout_passed": "holdout, passed before (churn)"}


def report(project: "Project", html_file: Path | None = None) -> dict[str, Any]:
    from ..engine.catalog import open_catalog

    versions.record_if_idle(project)
    current = versions.current(project)
    with open_catalog(project, read_only=True) as cat:
        tagged = cat.query("SELECT t.name, t.version FROM tags t JOIN versions v ON v.id = t.version "
                           "ORDER BY v.created, t.name")
        manifests = {vid: versions.version_manifests(cat, vid) for vid in {v for _, v in tagged} | {current}}
        steps = cat.query("SELECT checkpoint, step, loss FROM train_log ORDER BY checkpoint, step")
        parents = dict(cat.query("SELECT key, parent FROM checkpoints"))
        diagnosed = cat.query("SELECT checkpoint, label, count(*) FROM diagnoses GROUP BY checkpoint, label "
                              "ORDER BY checkpoint, label")
    rows = _tested_versions(tagged, current, manifests)
    names = _checkpoint_names(rows, parents)
    result: dict[str, Any] = {
        "versions": rows,
        "chance": _chance(project),
        "failure_types": {},
        "diagnoses": [],
        "checkpoints": {},
        "loss": _loss_curves(steps, parents, names),
    }
    by_checkpoint: dict[str, dict[str, int]] = {}
    for checkpoint, label, count in diagnosed:
        by_checkpoint.setdefault(checkpoint, {})[label] = count
        result["failure_types"][label] = result["failure_types"].get(label, 0) + count
    result["diagnoses"] = [{"checkpoint": k, "name": _name(names, k), "labels": v} for k, v in by_checkpoint.items()]
    for curve in result["loss"]:
        result["checkpoints"][curve["checkpoint"]] = curve["steps"]
    if len(rows) >= 2:
        repair = _repair(project, rows[0], rows[-1])
        if repair:
            result["repair"] = repair
    from ..engine.outputs import item_counts

    result["items"] = {d: {s: c[s] for s in ("dev", "holdout")} for d, c in item_counts(project).items()}
    validity = _validity(project)
    if validity:
        result["validity"] = validity
    if html_file is not None:
        html_file = Path(html_file)
        html_file.write_text(render_html(project.config.name, result), encoding="utf-8")
        result["html"] = str(html_file.resolve())
    return result


def _tested_versions(tagged, current, manifests) -> list[dict[str, Any]]:
    names: dict[str, list[str]] = {}
    order: list[str] = []
    for name, vid in tagged + [("HEAD", current)]:
        if vid not in names:
            names[vid] = []
            order.append(vid)
        if name != "HEAD" or not names[vid]:
            names[vid].append(name)
    rows = []
    for vid in order:
        test = manifests.get(vid, {}).get("test:all")
        if test and test["extra"].get("accuracy"):
            rows.append({"name": "/".join(names[vid]), "version": vid, "accuracy": test["extra"]["accuracy"],
                         "checkpoint": test["extra"].get("checkpoint"),
                         "question": test["extra"].get("question")})
    return rows


def _checkpoint_names(rows, parents: dict[str, str]) -> dict[str, str]:
    names = {}
    for r in rows:
        if r.get("checkpoint"):
            names.setdefault(r["checkpoint"], r["name"])
    for key, parent in parents.items():  # an untagged checkpoint: name it by its parent
        if key not in names:
            names[key] = f"{key[:8]}" + (f" (from {names.get(parent, parent[:8])})" if parent else "")
    return names


def _name(names: dict[str, str], key: str) -> str:
    return names.get(key) or key[:8]


def _loss_curves(steps, parents, names) -> list[dict[str, Any]]:
    """Each checkpoint's loss per step; a continued checkpoint's steps start where its parent's end."""
    curves: dict[str, list[tuple[int, float]]] = {}
    for checkpoint, step, loss in steps:
        curves.setdefault(checkpoint, []).append((int(step), float(loss)))
    offsets: dict[str, int] = {}

    def offset(key: str, depth: int = 0) -> int:
        if key in offsets:
            return offsets[key]
        parent = parents.get(key) or ""
        value = 0
        if parent in curves and depth < 50:
            value = offset(parent, depth + 1) + len(curves[parent])
        offsets[key] = value
        return value

    out = []
    for key in sorted(curves, key=lambda k: (offset(k), k)):
        points = curves[key]
        start = offset(key)
        out.append({"checkpoint": key, "name": _name(names, key), "parent": parents.get(key) or "",
                    "first_step": start + 1, "steps": len(points),
                    "first": round(points[0][1], 4), "last": round(points[-1][1], 4),
                    "points": [[start + s + 1, round(v, 4)] for s, v in points]})
    return out


def _chance(project: "Project") -> float | None:
    """Expected accuracy of a uniform guess: the mean of 1/options over the benchmark's items."""
    from ..engine.outputs import items

    found = items(project)
    return round(sum(1 / len(i.options) for i in found) / len(found), 4) if found else None


def _repair(project: "Project", first: dict[str, Any], last: dict[str, Any]) -> dict[str, Any] | None:
    """What ``proda diff FIRST LAST`` measures about the repair, named by the versions' names."""
    from .diff import diff

    change = diff(project, first["version"], last["version"])
    out = {k: change[k] for k in ("groups", "repair", "retention", "suites") if change.get(k)}
    return {"from": first["name"], "to": last["name"], **out} if out else None


def _validity(project: "Project") -> dict[str, Any] | None:
    from .stats import stats

    return stats(project).get("validity") or None


# -- text ---------------------------------------------------------------------------------------


def render_text(result: dict[str, Any]) -> str:
    from .validity import render as render_validity

    rows = result["versions"]
    if not rows:  # the benchmark's validity is known from bench on: shown all the same
        return "\n".join(["no tested versions yet: run `proda build`"]
                         + (render_validity(result["validity"]) if result.get("validity") else []))
    names = [r["name"] for r in rows]
    width = max(10, *(len(n) + 2 for n in names))
    items = result.get("items") or {}
    disciplines = sorted({d for r in rows for d in r["accuracy"].get("by_discipline", {})} | set(items))
    asked = any(r.get("question") for r in rows)  # scored with the options alone too
    label_w = max([len(d) for d in disciplines] + [len("question adds holdout") if asked else 8]) + 2
    lines = [f"{'accuracy':<{label_w}}" + "".join(f"{n:>{width}}" for n in names)
             + ("   items dev/holdout (now)" if items else "")]
    for label in SPLITS:
        lines.append(f"{label:<{label_w}}" + "".join(f"{r['accuracy'].get(label, 0):>{width}.3f}" for r in rows))
    if asked:  # accuracy from the options alone, no stem (fluency and priors), and what the stem adds
        def cell(r, key: str, split: str, sign: str = "") -> str:
            q = r.get("question") or {}
            have = key in q and split in q[key] and (q.get("n") or {}).get(split, 1)
            return f"{q[key][split]:>{sign}{width}.3f}" if have else f"{'-':>{width}}"

        # per split too: a patch can raise dev from the options alone (the answers it taught) while
        # the question adds less there than before — the all-items row hides that
        for key, label, sign in (("without", "no question", ""), ("adds", "question adds", "+")):
            for split in SPLITS:
                name = label if split == "all" else f"{label} {split}"
                lines.append(f"{name:<{label_w}}" + "".join(cell(r, key, split, sign) for r in rows))
    for d in disciplines:  # "-": that version has no item of the discipline (no accuracy, not 0.000)
        cells = "".join(f"{r['accuracy']['by_discipline'][d]:>{width}.3f}" if d in r["accuracy"].get("by_discipline", {})
                        else f"{'-':>{width}}" for r in rows)
        n = items.get(d)
        lines.append(f"{d:<{label_w}}" + cells + (f"   {n['dev']}/{n['holdout']}" if n else ""))
    untested = [d for d, n in sorted(items.items()) if not n["dev"] or not n["holdout"]]
    if untested:
        lines.append("no benchmark item in a split: " + ", ".join(
            f"{d} ({' and '.join(s for s in ('dev', 'holdout') if not items[d][s])})" for d in untested)
            + " — not tested there")
    if result.get("chance") is not None:
        lines.append(f"chance {result['chance']:.3f} (a uniform guess over each item's options)")
    for d in result.get("diagnoses", []):
        labels = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(d["labels"].items()))
        lines.append(f"failures of {d['name']} by diagnosis: {labels}")
    repair = result.get("repair")
    if repair:
        from .diff import render_groups

        lines.append(f"repair {repair['from']} -> {repair['to']}:")
        lines += render_groups(repair)
    validity = result.get("validity")
    if validity:  # the block `proda stats` prints: each baseline per split with its interval
        lines += render_validity(validity)
    return "\n".join(lines)


# -- HTML ---------------------------------------------------------------------------------------


def _table(head: list[str], body: list[list[str]]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    trs = "".join("<tr>" + "".join(f"<td>{c}</td>" if i else f"<th>{c}</th>" for i, c in enumerate(row)) + "</tr>"
                  for row in body)
    return f"<table><tr>{th}</tr>{trs}</table>"


def _repair_html(repair: dict[str, Any]) -> str:
    """The repair groups as an interval chart and a table; the fix rate beyond churn; the suites."""
    esc = html.escape
    parts = [f"<h2>Repair {esc(repair['from'])} → {esc(repair['to'])} by item group</h2>"]
    items = list((repair.get("groups") or {}).items())
    if items:
        parts.append("<figure>" + svg.intervals(
            "repair-groups", "Accuracy change with 95% interval",
            [(GROUP_LABELS.get(k, k), 100 * g["delta"], 100 * g["ci95"][0], 100 * g["ci95"][1]) for k, g in items],
            "accuracy change (percentage points)") + "<figcaption>Paired bootstrap interval; p from an exact "
            "McNemar test on the items that changed.</figcaption></figure>")
        def by_doc(g) -> str:  # resampling whole documents (items of one go together): the wider one
            lo, hi = g.get("ci95_documents") or (None, None)
            return "-" if lo is None else f"[{100 * lo:+.1f}, {100 * hi:+.1f}] ({g['documents']} documents)"

        parts.append(_table(["group", "n", "from", "to", "change (pts)", "95% interval", "McNemar p",
                             "95% interval by document"],
                            [[esc(GROUP_LABELS.get(k, k)), str(g["n"]), f"{g['from']:.3f}", f"{g['to']:.3f}",
                              f"{100 * g['delta']:+.1f}", f"[{100 * g['ci95'][0]:+.1f}, {100 * g['ci95'][1]:+.1f}]",
                              f"{g['p']:.3g}", by_doc(g)] for k, g in items]))
    r = repair.get("repair")
    if r:
        parts.append(f"<p>dev failures fixed beyond churn (against holdout failures): {100 * r['delta']:+.1f} "
                     f"points [{100 * r['ci95'][0]:+.1f}, {100 * r['ci95'][1]:+.1f}], Fisher p {r['p']:.3g}</p>")
    r = repair.get("retention")
    if r:
        parts.append(f"<p>dev passes broken beyond churn (against holdout passes): {100 * r['delta']:+.1f} "
                     f"points [{100 * r['ci95'][0]:+.1f}, {100 * r['ci95'][1]:+.1f}], Fisher p {r['p']:.3g}</p>")
    suites = [(s, k, m) for s, metrics in (repair.get("suites") or {}).items() for k, m in metrics.items()]
    if suites:
        parts.append("<h3>Regression suites</h3>" + _table(
            ["suite and metric", repair["from"], repair["to"], "change"],
            [[esc(f"{s} {k}"), f"{m['from']:.3f}", f"{m['to']:.3f}", f"{m['delta']:+.3f}"] for s, k, m in suites]))
    return "".join(parts)


def render_html(title: str, result: dict[str, Any]) -> str:
    esc = html.escape
    rows = result["versions"]
    chance = result.get("chance")
    reference = ("chance", chance) if chance is not None else None
    parts = ["<!doctype html><html><head><meta charset='utf-8'>",
             f"<title>proda report — {esc(title)}</title><style>"
             "body{font-family:system-ui,sans-serif;margin:2em;max-width:820px;color:#222}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px}"
             "td{text-align:right;font-variant-numeric:tabular-nums}th{text-align:left}"
             "figure{margin:1.5em 0}figcaption{color:#555;font-size:.9em;max-width:760px}"
             "</style></head><body>",
             f"<h1>proda report: {esc(title)}</h1>"]
    if rows:
        first, last = rows[0], rows[-1]
        disciplines = sorted({d for r in rows for d in r["accuracy"].get("by_discipline", {})})
        shown = [first, last] if first is not last else [first]
        parts.append("<h2>Accuracy by split</h2><figure>")
        parts.append(svg.hbars("accuracy-by-split", "Accuracy on the benchmark splits", list(SPLITS),
                               [(r["name"], [r["accuracy"].get(k, 0.0) for k in SPLITS]) for r in shown],
                               "accuracy (fraction of items answered correctly)", high=1.0, reference=reference))
        parts.append("<figcaption><b>dev</b> is the split the debugger diagnoses; <b>holdout</b> it never "
                     "sees, so a gain there is transfer. The dashed line is chance.</figcaption></figure>")
        parts.append("<h2>Accuracy by discipline</h2><figure>")
        parts.append(svg.hbars("accuracy-by-discipline", "Accuracy per discipline", disciplines,
                               [(r["name"], [r["accuracy"].get("by_discipline", {}).get(d) for d in disciplines])
                                for r in shown],
                               "accuracy (fraction of items answered correctly)", high=1.0, reference=reference))
        parts.append("</figure>")
        body = [[esc(label)] + [f"{r['accuracy'].get(label, 0.0):.3f}" for r in rows] for label in SPLITS]
        items = result.get("items") or {}
        every = sorted(set(disciplines) | set(items))  # a discipline without items has a row too: "-"
        body += [[esc(d)] + [f"{r['accuracy']['by_discipline'][d]:.3f}" if d in r["accuracy"].get("by_discipline", {})
                             else "-" for r in rows]
                 + ([f"{items[d]['dev']}/{items[d]['holdout']}" if d in items else "-"] if items else [])
                 for d in every]
        parts.append(_table(["accuracy"] + [r["name"] for r in rows] + (["items dev/holdout (now)"] if items else []),
                            body))
        parts.append("<p>Versions: " + ", ".join(f"<b>{esc(r['name'])}</b> = {esc(r['version'])} "
                                                  f"(checkpoint {esc((r.get('checkpoint') or '-')[:12])})"
                                                  for r in rows) + "</p>")
    else:
        parts.append("<p>No tested versions yet: run <code>proda build</code>.</p>")
    repair = result.get("repair")
    if repair:
        parts.append(_repair_html(repair))
    validity = result.get("validity")
    if validity and validity.get("option_only"):
        names = sorted(validity["option_only"])
        parts.append("<h2>Does an item need its question?</h2><figure>")
        parts.append(svg.hbars("validity-baselines", "Option-only baselines (never see the question)", names,
                               [(split, [validity["option_only"][n].get(split, 0.0) for n in names])
                                for split in ("dev", "holdout")],
                               "accuracy without the question", high=1.0,
                               reference=("chance", validity.get("chance", chance or 0.0))))
        parts.append(f"<figcaption>A baseline far above chance means items can be answered from their options "
                     f"alone. Shared sentences between splits: {validity.get('shared_sentences', 0)}; items "
                     f"dropped by the checks: {validity.get('dropped_items', 0)}.</figcaption></figure>")
        intervals = validity.get("intervals") or {}

        def cell(name: str, split: str) -> str:
            value, ci = validity["option_only"][name].get(split), intervals.get(name, {}).get(split)
            if value is None:
                return "–"
            return f"{value:.3f}" + (f" ({ci[0]:.3f}–{ci[1]:.3f})" if ci else "")

        parts.append(_table(["baseline", "dev (95% interval)", "holdout (95% interval)"],
                            [[html.escape(n), cell(n, "dev"), cell(n, "holdout")] for n in names]))
    if result.get("loss"):
        parts.append("<h2>Training loss</h2><figure>")
        parts.append(svg.lines("training-loss", "Training loss per optimizer step",
                               [(c["name"], [tuple(p) for p in c["points"]]) for c in result["loss"]],
                               "optimizer step (a continued checkpoint starts where its parent ends)",
                               "loss (cross-entropy, nats per token)"))
        parts.append("</figure>")
    else:
        parts.append("<h2>Training loss</h2><p>No training steps logged yet.</p>")
    diagnoses = result.get("diagnoses") or []
    parts.append("<h2>Failures by diagnosis (proda debug)</h2>")
    if diagnoses:
        labels = sorted({k for d in diagnoses for k in d["labels"]})
        title = "Diagnosed dev failures" + (f" of {diagnoses[0]['name']}" if len(diagnoses) == 1 else "")
        parts.append("<figure>" + svg.hbars(
            "failure-types", title, [k.replace("_", " ") for k in labels],
            [(f"failures of {d['name']}", [d["labels"].get(k, 0) for k in labels]) for d in diagnoses],
            "number of failed dev items", integer=True, value_labels=True) + "</figure>")
    else:
        parts.append("<p>No diagnoses yet: run <code>proda debug</code>.</p>")
    parts.append("</body></html>")
    return "".join(parts)
