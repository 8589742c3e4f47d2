"""Server-rendered SVG charts (no scripts, no inline styles: colours come from classes in decisions.css).

Every chart carries a ``<title>`` and ``role="img"`` with an ``aria-label`` and is accompanied by a
table of the same numbers in the template, so nothing depends on seeing colours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

ROW = 28
LABEL_W = 190
BAR_W = 360
VALUE_W = 210
SERIES = 8  # colour classes series-0 … series-7


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    low: float | None = None  # confidence interval, drawn as a whisker
    high: float | None = None
    highlight: bool = False
    note: str = ""


def _fmt(value: float, percent: bool) -> str:
    if percent:
        return f"{value * 100:.1f}%"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.3g}"


def _short(label: str, limit: int = 28) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def bar_chart(bars: Sequence[Bar], *, title: str, maximum: float | None = None, percent: bool = False) -> Markup:
    """Horizontal bars with labels, values and optional interval whiskers."""
    if not bars:
        return Markup("")
    top = maximum if maximum is not None else max([b.high or b.value for b in bars] + [1e-9])
    top = top or 1.0
    height = ROW * len(bars) + 8
    width = LABEL_W + BAR_W + VALUE_W
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="{escape(title)}" preserveAspectRatio="xMinYMin meet"><title>{escape(title)}</title>']
    for i, bar in enumerate(bars):
        y = 4 + i * ROW
        w = max(0.0, min(1.0, bar.value / top)) * BAR_W
        cls = "bar win" if bar.highlight else "bar"
        parts.append(f'<text class="label" x="{LABEL_W - 8}" y="{y + 17}" text-anchor="end">'
                     f'{escape(_short(bar.label))}</text>')
        parts.append(f'<rect class="track" x="{LABEL_W}" y="{y + 4}" width="{BAR_W}" height="{ROW - 10}"/>')
        parts.append(f'<rect class="{cls}" x="{LABEL_W}" y="{y + 4}" width="{w:.1f}" height="{ROW - 10}"/>')
        if bar.low is not None and bar.high is not None:
            x1 = LABEL_W + max(0.0, min(1.0, bar.low / top)) * BAR_W
            x2 = LABEL_W + max(0.0, min(1.0, bar.high / top)) * BAR_W
            mid = y + ROW / 2 - 1
            parts.append(f'<g class="whisker"><line x1="{x1:.1f}" y1="{mid}" x2="{x2:.1f}" y2="{mid}"/>'
                         f'<line x1="{x1:.1f}" y1="{mid - 6}" x2="{x1:.1f}" y2="{mid + 6}"/>'
                         f'<line x1="{x2:.1f}" y1="{mid - 6}" x2="{x2:.1f}" y2="{mid + 6}"/></g>')
        text = _fmt(bar.value, percent)
        if bar.low is not None and bar.high is not None:
            text += f" [{_fmt(bar.low, percent)}–{_fmt(bar.high, percent)}]"
        if bar.note:
            text += f" {bar.note}"
        parts.append(f'<text class="value" x="{LABEL_W + BAR_W + 6}" y="{y + 17}">{escape(text)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def grouped_chart(groups: Sequence[tuple[str, Sequence[Bar]]], series: Sequence[str], *, title: str,
                  percent: bool = True, maximum: float | None = None) -> Markup:
    """One cluster of bars per group (e.g. per region), one colour per series (candidate)."""
    if not groups:
        return Markup("")
    sub = 14
    colour = {name: i % SERIES for i, name in enumerate(series)}
    top = maximum if maximum is not None else max([b.value for _, bars in groups for b in bars] + [1e-9])
    top = top or 1.0
    heights = [max(1, len(bars)) * sub + 14 for _, bars in groups]
    width = LABEL_W + BAR_W + VALUE_W
    legend: list[str] = []
    x, ly = 8, 6
    for name in series:  # legend wraps onto as many lines as it needs
        step = 28 + 7 * min(len(name), 24)
        if x + step > width and x > 8:
            x, ly = 8, ly + 18
        legend.append(f'<rect class="series-{colour[name]}" x="{x}" y="{ly}" width="12" height="12"/>'
                      f'<text class="legend" x="{x + 16}" y="{ly + 10}">{escape(_short(name, 24))}</text>')
        x += step
    legend_h = ly + 22
    height = legend_h + sum(heights) + 4
    parts = [f'<svg class="chart grouped" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="{escape(title)}" preserveAspectRatio="xMinYMin meet"><title>{escape(title)}</title>',
             *legend]
    y = legend_h
    for (label, bars), h in zip(groups, heights, strict=True):
        parts.append(f'<text class="label" x="{LABEL_W - 8}" y="{y + h / 2 + 4}" text-anchor="end">'
                     f'{escape(_short(label))}</text>')
        if not bars:
            parts.append(f'<text class="value muted" x="{LABEL_W}" y="{y + h / 2 + 4}">'
                         f'{escape("fewer than 5 ballots: not shown")}</text>')
        for j, bar in enumerate(bars):
            by = y + 6 + j * sub
            w = max(0.0, min(1.0, bar.value / top)) * BAR_W
            parts.append(f'<rect class="series-{colour.get(bar.label, 0)}" x="{LABEL_W}" y="{by}" '
                         f'width="{w:.1f}" height="{sub - 3}"><title>{escape(bar.label)}: '
                         f'{_fmt(bar.value, percent)}</title></rect>')
            parts.append(f'<text class="value small" x="{LABEL_W + w + 4:.1f}" y="{by + sub - 4}">'
                         f'{_fmt(bar.value, percent)}</text>')
        parts.append(f'<line class="sep" x1="0" x2="{width}" y1="{y + h}" y2="{y + h}"/>')
        y += h
    parts.append("</svg>")
    return Markup("".join(parts))
