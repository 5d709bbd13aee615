"""Read the charts of an HTML report back (from the file or from Chromium's DOM) and check them
against ``proda report --json``: every chart present, titled, with axis titles and ticks, and every
drawn number equal to the JSON's."""

from __future__ import annotations

import math
from html.parser import HTMLParser

# A script appended to a copy of the page before Chromium renders it: it measures every text of
# every chart against its SVG box and writes what is clipped (and the bars drawn) into the DOM.
PROBE = """<script>
const out = [];
for (const svg of document.querySelectorAll('svg.chart')) {
  const box = svg.getBoundingClientRect();
  const clipped = [];
  for (const t of svg.querySelectorAll('text')) {
    const r = t.getBoundingClientRect();
    if (r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5)
      clipped.push(t.textContent);
  }
  const visible = [...svg.querySelectorAll('rect.bar, polyline.curve, circle.estimate')]
    .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 || r.height > 0; }).length;
  out.push({chart: svg.dataset.chart, width: box.width, height: box.height, clipped, visible});
}
document.body.setAttribute('data-probe', JSON.stringify(out));
</script>"""


class Charts(HTMLParser):
    """charts[id] = {"title", "axis_titles", "ticks", "bars", "curves", "references", "estimates"}."""

    def __init__(self, text: str):
        super().__init__()
        self.charts: dict[str, dict] = {}
        self._chart: str | None = None
        self._text_class: str | None = None
        self.probe: str | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body" and "data-probe" in a:
            self.probe = a["data-probe"]
        if tag == "svg" and "data-chart" in a:
            self._chart = a["data-chart"]
            self.charts[self._chart] = {"title": "", "axis_titles": [], "ticks": [], "bars": [], "curves": [],
                                        "references": [], "estimates": []}
            return
        if self._chart is None:
            return
        chart = self.charts[self._chart]
        cls = a.get("class", "")
        if tag == "text":
            self._text_class = cls
        elif tag == "rect" and cls == "bar":
            chart["bars"].append((a["data-series"], a["data-group"], float(a["data-value"])))
        elif tag == "polyline" and cls == "curve":
            chart["curves"].append((a["data-series"], int(a["data-points"]), float(a["data-last"])))
        elif tag == "line" and cls == "reference":
            chart["references"].append((a["data-name"], float(a["data-value"])))
        elif tag == "circle" and cls == "estimate":
            chart["estimates"].append((a["data-group"], float(a["data-value"]), float(a["data-low"]),
                                       float(a["data-high"])))

    def handle_endtag(self, tag):
        if tag == "svg":
            self._chart = None
        if tag == "text":
            self._text_class = None

    def handle_data(self, data):
        if self._chart is None or self._text_class is None:
            return
        chart = self.charts[self._chart]
        if self._text_class == "chart-title":
            chart["title"] += data
        elif self._text_class == "axis-title":
            chart["axis_titles"].append(data)
        elif self._text_class == "tick":
            chart["ticks"].append(data)


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-6)


def check_against_json(charts: dict[str, dict], result: dict) -> None:
    """Assert that the page draws exactly what ``report --json`` says."""
    for name, chart in charts.items():
        assert chart["title"].strip(), f"{name}: no title"
        assert chart["axis_titles"] and all(t.strip() for t in chart["axis_titles"]), f"{name}: no axis title"
        assert len(chart["ticks"]) >= 2, f"{name}: no ticks"
    rows = result["versions"]
    shown = [rows[0], rows[-1]] if len(rows) > 1 else rows[:1]
    split = {(s, g): v for s, g, v in charts["accuracy-by-split"]["bars"]}
    assert len(split) == 3 * len(shown)
    for r in shown:
        for s in ("all", "dev", "holdout"):
            assert close(split[(r["name"], s)], r["accuracy"][s]), (r["name"], s)
    by_d = {(s, g): v for s, g, v in charts["accuracy-by-discipline"]["bars"]}
    for r in shown:
        for d, value in r["accuracy"]["by_discipline"].items():
            assert close(by_d[(r["name"], d)], value), (r["name"], d)
    for chart in ("accuracy-by-split", "accuracy-by-discipline"):
        (name, value), = charts[chart]["references"]
        assert name == "chance" and close(value, result["chance"])
        assert all(0.0 <= float(t) <= 1.0 for t in charts[chart]["ticks"])  # an accuracy axis
    curves = {name: (points, last) for name, points, last in charts["training-loss"]["curves"]}
    assert len(curves) == len(result["loss"])
    for c in result["loss"]:
        points, last = curves[c["name"]]
        assert points == c["steps"] == result["checkpoints"][c["checkpoint"]] and close(last, c["last"])
    if result["diagnoses"]:
        counts = {(s, g): v for s, g, v in charts["failure-types"]["bars"]}
        for d in result["diagnoses"]:
            for label, n in d["labels"].items():
                assert counts[(f"failures of {d['name']}", label.replace("_", " "))] == n
        assert all(float(t) == int(float(t)) for t in charts["failure-types"]["ticks"])  # a count axis
    if result.get("groups"):
        estimates = charts["repair-groups"]["estimates"]
        assert [round(e[1], 6) for e in estimates] == [round(100 * g["delta"], 6) for g in result["groups"]["groups"].values()]
    if result.get("validity", {}).get("option_only"):
        assert charts["validity-baselines"]["bars"]
