"""A small server-side SVG line chart of coverage over time, inlined in PDFs (no script, no external resource)."""

from __future__ import annotations

import datetime

from django.utils.html import escape

WIDTH, HEIGHT, LEFT, BOTTOM, TOP, RIGHT = 520, 200, 40, 30, 10, 110
PALETTE = ["#1f4e79", "#b35c00", "#2e7d32", "#6a1b9a", "#00838f", "#5d4037"]
DASHES = ["", "6 3", "2 2", "8 2 2 2", "4 4", "1 3"]  # series differ by dash pattern too, not by colour alone


def coverage_chart_svg(points: list[dict], *, title: str = "Coverage % per environment") -> str:
    """An SVG line chart of ``coverage_pct`` per environment over ``bucket`` (daily drift_trend points).

    Drawn by the drift app's ``charts.line_chart`` (the portal's look) when that module is there; this module's own
    small chart otherwise, so reports never depend on it.
    """
    try:
        from apps.drift.charts import Series, line_chart
    except ImportError:
        return _own_chart(points, title)
    by_environment: dict[str, list] = {}
    for point in points:
        day = datetime.date.fromisoformat(point["bucket"])
        by_environment.setdefault(point["environment"] or "(none)", []).append((day, point["coverage_pct"]))
    series = [Series(name, tuple(values)) for name, values in sorted(by_environment.items())]
    return line_chart(series, chart_id="coverage-trend", title=title, y_label="%", y_max=100.0)


def _own_chart(points: list[dict], title: str) -> str:
    buckets = sorted({p["bucket"] for p in points})
    series: dict[str, dict[str, float]] = {}
    for point in points:
        if point["coverage_pct"] is not None:
            series.setdefault(point["environment"] or "(none)", {})[point["bucket"]] = point["coverage_pct"]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fff" stroke="#999"/>',
    ]
    for value in (0, 50, 100):
        y = TOP + plot_h - plot_h * value / 100
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{LEFT - 4}" y="{y + 3:.1f}" font-size="9" text-anchor="end">{value}%</text>')
    if not buckets:
        middle = TOP + plot_h / 2
        parts.append(f'<text x="{LEFT + 8}" y="{middle:.1f}" font-size="11">No snapshots in the period</text>')
    else:
        step = plot_w / max(1, len(buckets) - 1)
        single = len(buckets) == 1
        x_of = {bucket: LEFT + (plot_w / 2 if single else index * step) for index, bucket in enumerate(buckets)}
        for label in (buckets[0], buckets[-1]):
            anchor = "start" if label == buckets[0] else "end"
            parts.append(
                f'<text x="{x_of[label]:.1f}" y="{HEIGHT - 12}" font-size="9" text-anchor="{anchor}">'
                f"{escape(label)}</text>"
            )
        for index, (environment, values) in enumerate(sorted(series.items())):
            colour, dash = PALETTE[index % len(PALETTE)], DASHES[index % len(DASHES)]
            coords = [f"{x_of[b]:.1f},{TOP + plot_h - plot_h * values[b] / 100:.1f}" for b in buckets if b in values]
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(
                f'<polyline points="{" ".join(coords)}" fill="none" stroke="{colour}" stroke-width="2"{dash_attr}/>'
            )
            for coord in coords:  # a marker per snapshot, so a single day still shows
                x, y = coord.split(",")
                parts.append(f'<circle cx="{x}" cy="{y}" r="2.5" fill="{colour}"/>')
            legend_y = TOP + 12 + index * 14
            parts.append(
                f'<line x1="{WIDTH - RIGHT + 8}" y1="{legend_y - 3}" x2="{WIDTH - RIGHT + 28}" y2="{legend_y - 3}" '
                f'stroke="{colour}" stroke-width="2"{dash_attr}/>'
            )
            latest = values[max(values)]
            parts.append(
                f'<text x="{WIDTH - RIGHT + 32}" y="{legend_y}" font-size="9">{escape(environment)} {latest:g}%</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
