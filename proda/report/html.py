"""``proda report``: accuracy per discipline per version; ``--html`` adds plots.

The HTML page is self-contained (inline SVG, no scripts, no network): accuracy per discipline
per version, the first and last tagged versions side by side on ``dev`` and ``holdout``, the
training loss curve of every checkpoint, the failure types found by ``proda debug``, and the repair
groups of the first version against the last (proda/report/groups.py: n, from, to, delta, 95%
interval, McNemar p) with the regression suites beside them.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..engine import versions

if TYPE_CHECKING:
    from ..project import Project

PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1")


def report(project: "Project", html_file: Path | None = None) -> dict[str, Any]:
    from ..engine.catalog import open_catalog

    versions.record(project)
    with open_catalog(project) as cat:
        tagged = cat.query("SELECT t.name, t.version FROM tags t JOIN versions v ON v.id = t.version "
                           "ORDER BY v.created, t.name")
        rows: list[dict[str, Any]] = []
        seen = set()
        current = versions.current(project)
        for name, vid in tagged + [("HEAD", current)]:
            if vid in seen:
                continue
            seen.add(vid)
            test = versions.version_manifests(cat, vid).get("test:all")
            if test and test["extra"].get("accuracy"):
                rows.append({"name": name, "version": vid, "accuracy": test["extra"]["accuracy"],
                             "checkpoint": test["extra"].get("checkpoint")})
        losses: dict[str, list[tuple[int, float]]] = {}
        for ckpt, step, loss in cat.query("SELECT checkpoint, step, loss FROM train_log ORDER BY checkpoint, step"):
            losses.setdefault(ckpt, []).append((step, loss))
        failures = dict(cat.query("SELECT label, count(*) FROM diagnoses GROUP BY label ORDER BY label"))
    result = {"versions": rows, "failure_types": failures,
              "checkpoints": {k: len(v) for k, v in losses.items()}}
    if len(rows) >= 2:
        from .diff import diff

        change = diff(project, rows[0]["version"], rows[-1]["version"])
        result["repair"] = {k: change[k] for k in ("from", "to", "groups", "repair", "retention", "suites")
                            if k in change}
    if html_file is not None:
        html_file.write_text(render_html(project, rows, losses, failures, result.get("repair")), encoding="utf-8")
        result["html"] = str(html_file)
    return result


def render_text(result: dict[str, Any]) -> str:
    rows = result["versions"]
    if not rows:
        return "no tested versions yet: run `proda build`"
    names = [r["name"] for r in rows]
    disciplines = sorted({d for r in rows for d in r["accuracy"].get("by_discipline", {})})
    lines = [f"{'':<24}" + "".join(f"{n:>10}" for n in names)]
    for label in ("all", "dev", "holdout"):
        lines.append(f"{label:<24}" + "".join(f"{r['accuracy'].get(label, 0):>10.3f}" for r in rows))
    for d in disciplines:
        lines.append(f"{d:<24}" + "".join(f"{r['accuracy']['by_discipline'].get(d, 0):>10.3f}" for r in rows))
    if result["failure_types"]:
        lines.append("failure types: " + ", ".join(f"{k} {v}" for k, v in result["failure_types"].items()))
    if result.get("repair"):
        from .diff import render_groups

        lines.append(f"repair {names[0]} -> {names[-1]}:")
        lines += render_groups(result["repair"])
    return "\n".join(lines)


def _bars(title: str, groups: list[str], series: list[tuple[str, list[float]]], width: int = 900) -> str:
    height, left, top, bottom = 260, 50, 30, 90
    plot_w = width - left - 20
    n = max(1, len(groups))
    group_w = plot_w / n
    bar_w = max(2.0, group_w * 0.8 / max(1, len(series)))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + bottom}" role="img">',
           f'<text x="{left}" y="18" font-weight="bold">{html.escape(title)}</text>']
    for frac in (0, 0.25, 0.5, 0.75, 1.0):
        y = top + (1 - frac) * (height - top)
        out.append(f'<line x1="{left}" x2="{width - 20}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
                   f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{frac:.2f}</text>')
    for gi, group in enumerate(groups):
        for si, (name, values) in enumerate(series):
            value = values[gi] if gi < len(values) else 0.0
            h = value * (height - top)
            x = left + gi * group_w + group_w * 0.1 + si * bar_w
            out.append(f'<rect x="{x:.1f}" y="{height - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                       f'fill="{PALETTE[si % len(PALETTE)]}"><title>{html.escape(name)} {html.escape(group)}: '
                       f'{value:.3f}</title></rect>')
        gx = left + gi * group_w + group_w / 2
        out.append(f'<text transform="translate({gx:.1f},{height + 10}) rotate(40)" font-size="11">'
                   f'{html.escape(group)}</text>')
    for si, (name, _) in enumerate(series):
        out.append(f'<rect x="{width - 160}" y="{8 + si * 16}" width="10" height="10" fill="{PALETTE[si % len(PALETTE)]}"/>'
                   f'<text x="{width - 145}" y="{17 + si * 16}" font-size="12">{html.escape(name)}</text>')
    out.append("</svg>")
    return "".join(out)


def _lines(title: str, curves: dict[str, list[tuple[int, float]]], width: int = 900) -> str:
    height, left, top = 260, 50, 30
    points = [p for c in curves.values() for p in c]
    if not points:
        return f"<p>{html.escape(title)}: no training steps logged.</p>"
    max_step = max(s for s, _ in points) or 1
    max_loss = max(v for _, v in points) or 1.0
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 30}" role="img">',
           f'<text x="{left}" y="18" font-weight="bold">{html.escape(title)}</text>']
    for i, (name, curve) in enumerate(sorted(curves.items())):
        coords = " ".join(f"{left + s / max_step * (width - left - 20):.1f},"
                          f"{top + (1 - v / max_loss) * (height - top):.1f}" for s, v in curve)
        out.append(f'<polyline fill="none" stroke="{PALETTE[i % len(PALETTE)]}" stroke-width="1.5" '
                   f'points="{coords}"><title>{html.escape(name)}</title></polyline>')
        out.append(f'<text x="{width - 200}" y="{40 + i * 16}" font-size="12" fill="{PALETTE[i % len(PALETTE)]}">'
                   f'{html.escape(name[:16])}</text>')
    out.append(f'<text x="{left}" y="{height + 20}" font-size="11">step (max {max_step}); '
               f'loss (max {max_loss:.2f})</text></svg>')
    return "".join(out)


def _groups_html(repair: dict[str, Any]) -> str:
    """The repair groups (and regression suites) as tables."""
    rows = []
    for name, g in repair.get("groups", {}).items():
        lo, hi = g["ci95"]
        rows.append(f"<tr><th>{html.escape(name)}</th><td>{g['n']}</td><td>{g['from']:.3f}</td>"
                    f"<td>{g['to']:.3f}</td><td>{g['delta']:+.3f}</td><td>[{lo:+.3f}, {hi:+.3f}]</td>"
                    f"<td>{g['p']:.3g}</td></tr>")
    out = ("<table><tr><th>group</th><th>n</th><th>from</th><th>to</th><th>delta</th><th>95% CI</th>"
           f"<th>McNemar p</th></tr>{''.join(rows)}</table>")
    r = repair.get("repair")
    if r:
        out += (f"<p>dev_failed fix rate minus holdout_failed (churn control): {r['delta']:+.3f} "
                f"[{r['ci95'][0]:+.3f}, {r['ci95'][1]:+.3f}], Fisher p {r['p']:.3g}</p>")
    r = repair.get("retention")
    if r:
        out += (f"<p>dev_passed break rate minus holdout_passed (churn control): {r['delta']:+.3f} "
                f"[{r['ci95'][0]:+.3f}, {r['ci95'][1]:+.3f}], Fisher p {r['p']:.3g}</p>")
    suites = [(s, k, m) for s, metrics in (repair.get("suites") or {}).items() for k, m in metrics.items()]
    if suites:
        cells = "".join(f"<tr><th>{html.escape(s)} {html.escape(k)}</th><td>{m['from']:.3f}</td><td>{m['to']:.3f}</td>"
                        f"<td>{m['delta']:+.3f}</td></tr>" for s, k, m in suites)
        out += f"<h3>Regression suites</h3><table><tr><th></th><th>from</th><th>to</th><th>delta</th></tr>{cells}</table>"
    return out


def render_html(project: "Project", rows, losses, failures, repair: dict[str, Any] | None = None) -> str:
    disciplines = sorted({d for r in rows for d in r["accuracy"].get("by_discipline", {})})
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>proda report — "
             f"{html.escape(project.config.name)}</title><style>body{{font-family:sans-serif;margin:2em}}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
             "</style></head><body>", f"<h1>proda report: {html.escape(project.config.name)}</h1>"]
    if rows:
        parts.append("<h2>Accuracy per discipline per version</h2>")
        parts.append(_bars("accuracy by discipline", disciplines,
                           [(r["name"], [r["accuracy"]["by_discipline"].get(d, 0.0) for d in disciplines])
                            for r in rows]))
        first, last = rows[0], rows[-1]
        parts.append(f"<h2>{html.escape(first['name'])} vs {html.escape(last['name'])} on dev and holdout</h2>")
        parts.append(_bars("dev (debugged) and holdout (never seen by the debugger)", ["all", "dev", "holdout"],
                           [(r["name"], [r["accuracy"].get(k, 0.0) for k in ("all", "dev", "holdout")])
                            for r in (first, last)]))
        head = "".join(f"<th>{html.escape(r['name'])}</th>" for r in rows)
        table = []
        for label in ["all", "dev", "holdout"] + disciplines:
            values = [r["accuracy"].get(label, 0.0) if label in ("all", "dev", "holdout")
                      else r["accuracy"]["by_discipline"].get(label, 0.0) for r in rows]
            cells = "".join(f"<td>{v:.3f}</td>" for v in values)
            table.append(f"<tr><th>{html.escape(label)}</th>{cells}</tr>")
        parts.append(f"<table><tr><th></th>{head}</tr>{''.join(table)}</table>")
    else:
        parts.append("<p>No tested versions yet.</p>")
    parts.append("<h2>Training loss</h2>" + _lines("loss per step, per checkpoint", losses))
    parts.append("<h2>Failure types (proda debug)</h2>")
    parts.append(_bars("diagnosed failures", list(failures), [("count", [v / max(1, max(failures.values(), default=1))
                                                                         for v in failures.values()])])
                 + "<p>" + html.escape(json.dumps(failures)) + "</p>" if failures else "<p>No diagnoses yet.</p>")
    if repair and repair.get("groups"):
        parts.append(f"<h2>Repair groups: {html.escape(rows[0]['name'])} → {html.escape(rows[-1]['name'])}</h2>")
        parts.append(_groups_html(repair))
    parts.append("</body></html>")
    return "".join(parts)
