"""Pictures of what `consume` wrote, without Spark: `streamlab chart` and the dashboard use these.

    data.py         open_output(path, settings): consume's Parquet folders, local or s3://, via pyarrow
    aggregate.py    plain functions: candles, price series, hashtag top N / trend, units and USD
                    value per symbol, the treemap layout
    build.py        kind + options -> a Chart (the aggregated data), or one clear line when empty
    render_png.py   PNG/SVG with matplotlib (Agg, headless); imported only when drawing one
    svg.py          the same charts as inline SVG strings (HTML charts and the dashboard page)
    render_html.py  a self-contained interactive HTML file (no CDN, no network)
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from streamlab.charts.build import KINDS, Chart, Request  # noqa: F401  (the package's API)

FORMATS = (".png", ".svg", ".html")


def draw(path: str, req: Request, out: Path, size: tuple[int, int] = (1200, 700), settings=None) -> Chart:
    """Read consume's output at `path`, aggregate for `req.kind`, write `out` (format from its suffix)."""
    from streamlab.charts.build import build
    from streamlab.charts.data import open_output

    check_target(out)
    return write(build(open_output(path, settings), req), out, size)


def check_target(out: Path, flag: str = "--out") -> None:
    """A file we can draw: a known format, an existing folder, matplotlib there for PNG/SVG."""
    import importlib.util

    from streamlab.errors import ConfigError, MissingDependency

    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise ConfigError(f"cannot draw {out.name}: unknown format {suffix or '(none)'}", f"end {flag} with one of {', '.join(FORMATS)}")
    if out.parent and not out.parent.exists():
        raise ConfigError(f"folder {out.parent} does not exist", f"create it or choose another {flag}")
    if suffix != ".html" and importlib.util.find_spec("matplotlib") is None:
        raise MissingDependency.extra("matplotlib", "charts")


def write(chart: Chart, out: Path, size: tuple[int, int] = (1200, 700)) -> Chart:
    """Render an aggregated chart to `out`: HTML by its suffix, else PNG/SVG with matplotlib."""
    if out.suffix.lower() == ".html":
        from streamlab.charts import render_html

        render_html.render(chart, out, *size)
    else:
        from streamlab.charts import render_png

        render_png.render(chart, out, *size)
    return chart


def write_demo_chart(output_dir: Path, name: str = "candles.png") -> Optional[Path]:
    """The demo's last step: candlesticks of every symbol it wrote, as `<output_dir>/candles.png`.

    Returns the file, or None (with a one-line note) when there is nothing to draw or matplotlib
    is missing: the demo itself succeeded, its picture is a bonus."""
    from streamlab import console
    from streamlab.errors import StreamlabError

    target = Path(output_dir) / name
    try:
        draw(str(output_dir), Request("candles"), target, size=(1200, 900))
    except StreamlabError as exc:
        console.info(f"note: no candles chart: {exc.one_line()}")
        return None
    return target
