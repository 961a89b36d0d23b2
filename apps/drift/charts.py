"""Server-side SVG charts: pure functions returning SVG markup, reusable in HTML pages and PDF reports.

Every chart is ``role="img"`` with a ``<title>`` and ``<desc>`` referenced by ``aria-labelledby``; pages pair it
with ``chart_table`` (the same numbers as a data table). Series differ by colour (Okabe-Ito, colour-blind safe), by
dash pattern and by marker shape, so no series is told apart by colour alone.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from html import escape

PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
DASHES = ("", "8 4", "2 3", "10 3 2 3", "4 4", "1 2")
MARKERS = ("circle", "square", "triangle", "diamond", "circle", "square")
MARGIN = {"left": 48, "right": 16, "top": 16, "bottom": 56}


@dataclass(frozen=True)
class Series:
    """One line: a name and (date, value | None) points, oldest first."""

    name: str
    points: tuple[tuple[datetime.date, float | None], ...]


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    if shape == "square":
        return f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" fill="{colour}"/>'
    if shape == "triangle":
        return _path(colour, (x, y - 4.5), (x + 4.5, y + 3.5), (x - 4.5, y + 3.5))
    if shape == "diamond":
        return _path(colour, (x, y - 5), (x + 5, y), (x, y + 5), (x - 5, y))
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>'


def _path(colour: str, *corners: tuple[float, float]) -> str:
    d = " L".join(f"{x:.1f} {y:.1f}" for x, y in corners)
    return f'<path d="M{d} Z" fill="{colour}"/>'


def _dates(series: list[Series]) -> list[datetime.date]:
    return sorted({day for s in series for day, _ in s.points})


def line_chart(
    series: list[Series],
    *,
    chart_id: str,
    title: str,
    description: str = "",
    y_label: str = "%",
    y_max: float | None = None,
    width: int = 720,
    height: int = 280,
) -> str:
    """A line chart of ``series`` over time, as a standalone accessible SVG string.

    The y axis runs from 0 to ``y_max`` when given, else to the data's maximum rounded up to 10 (at least 10).
    """
    dates = _dates(series)
    if y_max is None:
        highest = max((v for line in series for _, v in line.points if v is not None), default=0.0)
        y_max = float(min(100, max(10, math.ceil(highest / 10) * 10)))
    plot_w = width - MARGIN["left"] - MARGIN["right"]
    plot_h = height - MARGIN["top"] - MARGIN["bottom"]
    legend_y = height - 14
    span = max(1, (dates[-1] - dates[0]).days) if dates else 1

    def px(day: datetime.date) -> float:
        offset = (day - dates[0]).days if len(dates) > 1 else span / 2
        return MARGIN["left"] + plot_w * offset / span

    def py(value: float) -> float:
        return MARGIN["top"] + plot_h * (1 - min(max(value, 0.0), y_max) / y_max)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description or _describe(series, y_label))}</desc>',
        '<g class="chart-grid" font-size="11" fill="#4a5260">',
    ]
    for tick in range(0, 5):
        value = y_max * tick / 4
        y = py(value)
        parts.append(
            f'<line x1="{MARGIN["left"]}" x2="{width - MARGIN["right"]}" y1="{y:.1f}" y2="{y:.1f}" stroke="#c9ced6"/>'
        )
        parts.append(
            f'<text x="{MARGIN["left"] - 6}" y="{y + 4:.1f}" text-anchor="end">{value:g}{escape(y_label)}</text>'
        )
    for day in _ticks(dates):
        x = px(day)
        parts.append(f'<text x="{x:.1f}" y="{MARGIN["top"] + plot_h + 16}" text-anchor="middle">{day:%d %b}</text>')
    parts.append("</g>")
    if not dates:
        parts.append(
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" font-size="14" fill="#1b1f24">'
            "No snapshots in this range</text>"
        )
    for index, line in enumerate(series):
        colour, dash = PALETTE[index % len(PALETTE)], DASHES[index % len(DASHES)]
        shape = MARKERS[index % len(MARKERS)]
        parts.append(_polyline(line, px, py, colour, dash))
        if len(line.points) <= 60:
            parts.extend(_marker(shape, px(day), py(v), colour) for day, v in line.points if v is not None)
        lx = MARGIN["left"] + index * 150
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<g class="chart-legend"><line x1="{lx}" x2="{lx + 28}" y1="{legend_y}" y2="{legend_y}" '
            f'stroke="{colour}" stroke-width="2.5"{dash_attr}/>{_marker(shape, lx + 14, legend_y, colour)}'
            f'<text x="{lx + 34}" y="{legend_y + 4}" font-size="12" fill="#1b1f24">{escape(line.name)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _polyline(line: Series, px, py, colour: str, dash: str) -> str:
    """One path per run of consecutive values (a gap where a value is missing)."""
    segments, current = [], []
    for day, value in line.points:
        if value is None:
            if current:
                segments.append(current)
            current = []
        else:
            current.append(f"{px(day):.1f},{py(value):.1f}")
    if current:
        segments.append(current)
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return "".join(
        f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" stroke-width="2.5"{dash_attr}/>'
        for points in segments
    )


def _ticks(dates: list[datetime.date], count: int = 6) -> list[datetime.date]:
    if len(dates) <= count:
        return dates
    step = (len(dates) - 1) / (count - 1)
    return [dates[round(i * step)] for i in range(count)]


def _describe(series: list[Series], unit: str) -> str:
    """A one-sentence summary per series: first and last value of the range."""
    sentences = []
    for line in series:
        values = [(day, v) for day, v in line.points if v is not None]
        if values:
            (first_day, first), (last_day, last) = values[0], values[-1]
            sentences.append(
                f"{line.name}: {first:g}{unit} on {first_day:%Y-%m-%d}, {last:g}{unit} on {last_day:%Y-%m-%d}."
            )
    return " ".join(sentences) or "No data in this range."


def chart_table(series: list[Series]) -> tuple[list[str], list[tuple[datetime.date, list[float | None]]]]:
    """The chart's numbers as a table: header (series names) and one row per date."""
    values = {line.name: dict(line.points) for line in series}
    names = [line.name for line in series]
    return names, [(day, [values[name].get(day) for name in names]) for day in _dates(series)]
