"""A chart as one self-contained HTML file: inline SVG, inline CSS and a small inline script
(tooltips, click a legend entry to hide a line). Nothing is fetched: it opens offline."""

from __future__ import annotations

from html import escape
from importlib import resources
from pathlib import Path

from streamlab.charts import svg
from streamlab.charts.build import Chart


def asset(name: str) -> str:
    return resources.files("streamlab.charts").joinpath("static", name).read_text(encoding="utf-8")


def page(chart: Chart, width: int = 1200, height: int = 700) -> str:
    body = svg.render(chart, width, max(height - 60, 200))
    notes = "".join(f'<div class="sub">{escape(n)}</div>' for n in chart.notes)
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{escape(chart.title)}</title><style>{asset('style.css')}</style></head>"
        f'<body data-kind="{chart.kind}"><h1>{escape(chart.title)}</h1><div class="sub">{escape(chart.subtitle)}</div>{notes}'
        f"{body}<script>{asset('interact.js')}</script></body></html>\n"
    )


def render(chart: Chart, path: Path, width: int = 1200, height: int = 700) -> Path:
    path.write_text(page(chart, width, height), encoding="utf-8")
    return path
