"""Small server-rendered SVG charts.

Colours are SVG presentation attributes (``fill="…"``), not ``style=`` — the CSP forbids inline
styles, and the same SVG is embedded in the PDF report where no stylesheet applies.
"""

from __future__ import annotations

from markupsafe import Markup, escape

STANCE_COLOURS = {"accept": "#1d7a46", "partly": "#c98a00", "reject": "#b3261e", "under_review": "#5b6675",
                  "awaiting": "#cfd6df", "overdue": "#7a1c15"}
SERIES = ["#0b5cab", "#1d7a46", "#c98a00", "#b3261e", "#6b3fa0", "#5b6675", "#0f8a8a"]


def _fmt(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def stacked_bar(parts: list[tuple[str, float, str]], *, width: int = 600, height: int = 28,
                title: str = "") -> Markup:
    """One horizontal bar split into labelled parts: [(label, value, colour)]."""
    total = sum(v for _, v, _ in parts) or 1.0
    x = 0.0
    rects = []
    for label, value, colour in parts:
        if value <= 0:
            continue
        w = value / total * width
        rects.append(f'<rect x="{_fmt(x)}" y="0" width="{_fmt(w)}" height="{height}" fill="{colour}">'
                     f'<title>{escape(label)}: {_fmt(value)}</title></rect>')
        if w > 34:
            rects.append(f'<text x="{_fmt(x + w / 2)}" y="{height / 2 + 5:.0f}" text-anchor="middle" '
                         f'font-size="13" fill="#ffffff" font-family="sans-serif">{_fmt(value)}</text>')
        x += w
    if not rects:
        rects.append(f'<rect x="0" y="0" width="{width}" height="{height}" fill="#e3e8ee"/>')
    return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
                  f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">'
                  + "".join(rects) + "</svg>")


def bar_chart(rows: list[tuple[str, float]], *, width: int = 600, bar: int = 22, maximum: float | None = None,
              percent: bool = False, title: str = "", colour: str = "#0b5cab",
              marks: list[float] | None = None) -> Markup:
    """Horizontal bars with labels on the left. ``marks`` draws a reference tick per row (e.g. population)."""
    label_w, gap = 220, 8
    top = max([v for _, v in rows] + [m for m in (marks or []) if m is not None] + [1e-9])
    maximum = maximum or top
    h = len(rows) * (bar + gap) + gap
    out = []
    plot_w = width - label_w - 70
    for i, (label, value) in enumerate(rows):
        y = gap + i * (bar + gap)
        w = max(0.0, value / maximum * plot_w)
        shown = f"{value * 100:.1f}%" if percent else _fmt(value)
        out.append(f'<text x="{label_w - 6}" y="{y + bar * 0.7:.0f}" text-anchor="end" font-size="13" '
                   f'fill="#1c2430" font-family="sans-serif">{escape(label[:32])}</text>')
        out.append(f'<rect x="{label_w}" y="{y}" width="{plot_w}" height="{bar}" fill="#eef1f5"/>')
        out.append(f'<rect x="{label_w}" y="{y}" width="{_fmt(w)}" height="{bar}" fill="{colour}">'
                   f'<title>{escape(label)}: {shown}</title></rect>')
        if marks and i < len(marks) and marks[i] is not None:
            mx = label_w + marks[i] / maximum * plot_w
            out.append(f'<rect x="{_fmt(mx - 1.5)}" y="{y - 3}" width="3" height="{bar + 6}" fill="#1c2430"/>')
        out.append(f'<text x="{label_w + plot_w + 6}" y="{y + bar * 0.7:.0f}" font-size="13" fill="#1c2430" '
                   f'font-family="sans-serif">{shown}</text>')
    return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {h}" '
                  f'width="{width}" height="{h}" role="img" aria-label="{escape(title)}">' + "".join(out) + "</svg>")


def stance_bar(counts: dict[str, int], title: str = "") -> Markup:
    order = ["accept", "partly", "reject", "under_review", "overdue", "awaiting"]
    return stacked_bar([(k.replace("_", " "), float(counts.get(k, 0)), STANCE_COLOURS[k]) for k in order],
                       title=title)
