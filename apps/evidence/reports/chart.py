"""The PDF reports' trend chart: the portal's own server-side SVG chart (apps.drift.charts), so both show the same."""

from __future__ import annotations

import datetime

from apps.drift.charts import Series, line_chart


def coverage_chart_svg(points: list[dict], *, title: str = "Coverage % per environment") -> str:
    """An SVG line chart of ``coverage_pct`` per environment over ``bucket`` (daily drift_trend points)."""
    by_environment: dict[str, list] = {}
    for point in points:
        day = datetime.date.fromisoformat(point["bucket"])
        by_environment.setdefault(point["environment"] or "(none)", []).append((day, point["coverage_pct"]))
    series = [Series(name, tuple(values)) for name, values in sorted(by_environment.items())]
    return line_chart(series, chart_id="coverage-trend", title=title, y_label="%", y_max=100.0)
