"""Small self-contained SVG charts for the HTML report: horizontal bars, lines, intervals.

Every chart has a title, labelled axes with ticks, and a legend when it has more than one series;
every mark carries its number (``data-value``, and a ``<title>`` tooltip) so a test — or a reader
with the page source — can check what is drawn against ``proda report --json``. Widths come from
the labels they must hold (an estimate of text width), so no label is clipped.
"""

from __future__ import annotations

import html
import math
from typing import Sequence

PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f")
FONT = 12  # px; text width is estimated as 0.6 em per character
WIDTH = 760


def _text_width(text: str, size: int = FONT) -> float:
    return len(text) * size * 0.6


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def nice_ticks(low: float, high: float, count: int = 5, integer: bool = False) -> list[float]:
    """Round tick values covering [low, high] (1, 2, 2.5 or 5 times a power of ten apart; with
    ``integer``, whole-number steps only, so the last tick still covers ``high``)."""
    if high <= low:
        high = low + 1.0
    raw = (high - low) / max(1, count)
    power = 10 ** math.floor(math.log10(raw))
    steps = [m * power for m in (1, 2, 2.5, 5, 10)]
    if integer:
        steps = [s for s in steps if s >= 1 and s == int(s)] or [1.0]
    step = next((s for s in steps if s >= raw), steps[-1])
    start = math.floor(low / step + 1e-9) * step
    ticks, value = [], start
    while value <= high + step * 1e-6:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high - 1e-9:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _fmt(value: float, integer: bool = False) -> str:
    if integer:
        return f"{int(round(value))}"
    return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value)}"


def _legend(series: Sequence[str], x: float, y: float) -> tuple[list[str], float]:
    out, cursor = [], x
    for i, name in enumerate(series):
        out.append(f'<g class="legend-entry" data-series="{_esc(name)}"><rect x="{cursor:.1f}" y="{y - 10:.1f}" '
                   f'width="12" height="12" fill="{PALETTE[i % len(PALETTE)]}"/>'
                   f'<text x="{cursor + 16:.1f}" y="{y:.1f}" font-size="{FONT}">{_esc(name)}</text></g>')
        cursor += 16 + _text_width(name) + 18
    return out, cursor


def hbars(chart: str, title: str, groups: Sequence[str], series: Sequence[tuple[str, Sequence[float]]],
          axis: str, *, high: float | None = None, integer: bool = False, reference: tuple[str, float] | None = None,
          value_labels: bool = False) -> str:
    """Horizontal grouped bars: one row per group, one bar per series; a labelled value axis below.
    A value of None draws no bar but a "no items" label (not a bar at 0).

    ``reference`` draws a dashed vertical line (e.g. ("chance", 0.25)) across the plot."""
    bar_h = 12 if len(series) > 1 else 16
    row_h = bar_h * len(series) + 8
    left = 12 + max([_text_width(g) for g in groups] + [40])
    value_room = 44 if value_labels else 0
    right = WIDTH - 16 - value_room
    top = 44 + (20 if len(series) > 1 else 0)
    plot_h = row_h * max(1, len(groups))
    values = [v for _, vs in series for v in vs if v is not None]
    top_value = high if high is not None else max(values + [reference[1] if reference else 0, 1e-9])
    ticks = nice_ticks(0.0, top_value, 4 if integer and top_value < 4 else 5, integer=integer)
    hi = ticks[-1]

    def sx(v: float) -> float:
        return left + (right - left) * (v / hi if hi else 0)

    height = top + plot_h + 46
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{chart}" width="{WIDTH}" '
           f'height="{height:.0f}" viewBox="0 0 {WIDTH} {height:.0f}" role="img" aria-label="{_esc(title)}">',
           f'<text class="chart-title" x="{left}" y="18" font-size="14" font-weight="bold">{_esc(title)}</text>']
    if len(series) > 1:
        legend, _ = _legend([name for name, _ in series], left, 40)
        out += legend
    for t in ticks:
        x = sx(t)
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h}" stroke="#e5e5e5"/>'
                   f'<text class="tick" x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
                   f'font-size="11">{_fmt(t, integer)}</text>')
    out.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="#333"/>'
               f'<line x1="{left}" x2="{right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#333"/>')
    for gi, group in enumerate(groups):
        y0 = top + gi * row_h + 4
        out.append(f'<text class="category" x="{left - 6}" y="{y0 + row_h / 2:.1f}" text-anchor="end" '
                   f'dominant-baseline="middle" font-size="{FONT}">{_esc(group)}</text>')
        for si, (name, vs) in enumerate(series):
            y = y0 + si * bar_h
            if gi < len(vs) and vs[gi] is None:  # no value (a version without items there): no bar, said
                out.append(f'<text class="no-value" data-series="{_esc(name)}" data-group="{_esc(group)}" '
                           f'x="{left + 4}" y="{y + bar_h / 2:.1f}" dominant-baseline="middle" font-size="11" '
                           f'fill="#777">{_esc(name)}: no items</text>')
                continue
            v = float(vs[gi]) if gi < len(vs) else 0.0
            w = max(0.0, sx(v) - left)
            label = _fmt(v, True) if integer else f"{v:.3f}"
            out.append(f'<rect class="bar" data-series="{_esc(name)}" data-group="{_esc(group)}" '
                       f'data-value="{v:.6g}" x="{left}" y="{y:.1f}" width="{w:.1f}" height="{bar_h - 2}" '
                       f'fill="{PALETTE[si % len(PALETTE)]}"><title>{_esc(name)}, {_esc(group)}: {label}</title></rect>')
            if value_labels:
                out.append(f'<text class="value" x="{left + w + 4:.1f}" y="{y + bar_h / 2:.1f}" '
                           f'dominant-baseline="middle" font-size="11">{label}</text>')
    if reference is not None:
        name, value = reference
        x = sx(value)
        out.append(f'<line class="reference" data-name="{_esc(name)}" data-value="{value:.6g}" x1="{x:.1f}" '
                   f'x2="{x:.1f}" y1="{top - 4}" y2="{top + plot_h}" stroke="#c00" stroke-dasharray="4 3"/>'
                   f'<text x="{x + 3:.1f}" y="{top - 6}" font-size="11" fill="#c00">{_esc(name)} {value:.2f}</text>')
    out.append(f'<text class="axis-title" x="{(left + right) / 2:.1f}" y="{top + plot_h + 36}" '
               f'text-anchor="middle" font-size="{FONT}">{_esc(axis)}</text></svg>')
    return "".join(out)


def lines(chart: str, title: str, curves: Sequence[tuple[str, Sequence[tuple[float, float]]]],
          x_axis: str, y_axis: str) -> str:
    """One polyline per named curve of (x, y) points, with ticks on both axes."""
    points = [p for _, c in curves for p in c]
    left, right, top = 64, WIDTH - 16, 44 + (20 if len(curves) > 1 else 0)
    plot_h = 260
    x_ticks = nice_ticks(0.0, max(x for x, _ in points), 6)
    y_ticks = nice_ticks(0.0, max(y for _, y in points), 5)
    xh, yh = x_ticks[-1] or 1.0, y_ticks[-1] or 1.0

    def sx(v: float) -> float:
        return left + (right - left) * v / xh

    def sy(v: float) -> float:
        return top + plot_h * (1 - v / yh)

    height = top + plot_h + 46
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{chart}" width="{WIDTH}" '
           f'height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{_esc(title)}">',
           f'<text class="chart-title" x="{left}" y="18" font-size="14" font-weight="bold">{_esc(title)}</text>']
    if len(curves) > 1:
        legend, _ = _legend([name for name, _ in curves], left, 40)
        out += legend
    for t in y_ticks:
        y = sy(t)
        out.append(f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e5e5"/>'
                   f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{_fmt(t)}</text>')
    for t in x_ticks:
        x = sx(t)
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top + plot_h}" y2="{top + plot_h + 4}" stroke="#333"/>'
                   f'<text class="tick" x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
                   f'font-size="11">{_fmt(t, True)}</text>')
    out.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="#333"/>'
               f'<line x1="{left}" x2="{right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#333"/>')
    for i, (name, curve) in enumerate(curves):
        coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in curve)
        last = curve[-1][1] if curve else 0.0
        out.append(f'<polyline class="curve" data-series="{_esc(name)}" data-points="{len(curve)}" '
                   f'data-last="{last:.6g}" fill="none" stroke="{PALETTE[i % len(PALETTE)]}" stroke-width="1.5" '
                   f'points="{coords}"><title>{_esc(name)}: {len(curve)} steps, last loss {last:.3f}</title></polyline>')
    out.append(f'<text class="axis-title" x="{(left + right) / 2:.1f}" y="{top + plot_h + 36}" '
               f'text-anchor="middle" font-size="{FONT}">{_esc(x_axis)}</text>'
               f'<text class="axis-title" transform="translate(16,{top + plot_h / 2:.1f}) rotate(-90)" '
               f'text-anchor="middle" font-size="{FONT}">{_esc(y_axis)}</text></svg>')
    return "".join(out)


def intervals(chart: str, title: str, rows: Sequence[tuple[str, float, float, float]], axis: str) -> str:
    """One row per (label, estimate, low, high): a dot with its interval, and a zero line."""
    left = 12 + max([_text_width(r[0]) for r in rows] + [40])
    right, top, row_h = WIDTH - 16, 40, 28
    plot_h = row_h * max(1, len(rows))
    extent = max([abs(v) for r in rows for v in r[1:]] + [0.01])
    ticks = nice_ticks(-extent, extent, 6)
    lo, hi = ticks[0], ticks[-1]

    def sx(v: float) -> float:
        return left + (right - left) * (v - lo) / (hi - lo)

    height = top + plot_h + 46
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{chart}" width="{WIDTH}" '
           f'height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{_esc(title)}">',
           f'<text class="chart-title" x="{left}" y="18" font-size="14" font-weight="bold">{_esc(title)}</text>']
    for t in ticks:
        x = sx(t)
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h}" stroke="#e5e5e5"/>'
                   f'<text class="tick" x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle" font-size="11">'
                   f'{t:+g}</text>')
    out.append(f'<line class="reference" data-name="no change" data-value="0" x1="{sx(0):.1f}" x2="{sx(0):.1f}" '
               f'y1="{top}" y2="{top + plot_h}" stroke="#333"/>'
               f'<line x1="{left}" x2="{right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#333"/>')
    for i, (label, value, low, high) in enumerate(rows):
        y = top + i * row_h + row_h / 2
        out.append(f'<text class="category" x="{left - 6}" y="{y:.1f}" text-anchor="end" dominant-baseline="middle" '
                   f'font-size="{FONT}">{_esc(label)}</text>'
                   f'<line x1="{sx(low):.1f}" x2="{sx(high):.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="#4e79a7" '
                   f'stroke-width="2"/>'
                   f'<circle class="estimate" data-group="{_esc(label)}" data-value="{value:.6g}" data-low="{low:.6g}" '
                   f'data-high="{high:.6g}" cx="{sx(value):.1f}" cy="{y:.1f}" r="4" fill="#4e79a7">'
                   f'<title>{_esc(label)}: {value:+.1f} [{low:+.1f}, {high:+.1f}]</title></circle>')
    out.append(f'<text class="axis-title" x="{(left + right) / 2:.1f}" y="{top + plot_h + 36}" '
               f'text-anchor="middle" font-size="{FONT}">{_esc(axis)}</text></svg>')
    return "".join(out)
