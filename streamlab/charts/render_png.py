"""PNG and SVG with matplotlib's Agg backend (headless: no display, no GUI toolkit).

The figure is exactly the requested size in pixels (100 dpi, no tight bounding box), so a
`--size 1200x700` PNG is 1200 x 700.
"""

from __future__ import annotations

from pathlib import Path

from streamlab.charts import aggregate as agg
from streamlab.charts.build import Chart
from streamlab.errors import MissingDependency

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777", "#4b5563", "#65a30d")
UP, DOWN = "#16a34a", "#dc2626"
DPI = 100
MAX_PANELS = 6


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise MissingDependency.extra("matplotlib", "charts") from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _days(ms: float) -> float:
    return ms / 86_400_000  # matplotlib's date numbers: days since 1970-01-01


def render(chart: Chart, path: Path, width: int = 1200, height: int = 700) -> Path:
    plt = _pyplot()
    fig = plt.figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    try:
        {"candles": _candles, "price": _price, "hashtags": _hashtags, "trend": _trend, "units": _units, "value": _value}[chart.kind](fig, chart)
        fig.suptitle(chart.title + (f"\n{chart.subtitle}" if chart.subtitle else ""), fontsize=11)
        fig.savefig(path, dpi=DPI, format=path.suffix.lstrip(".").lower())
    finally:
        plt.close(fig)
    return path


def _time_axis(ax) -> None:
    import matplotlib.dates as mdates

    ax.xaxis_date()
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S"))
    ax.grid(True, alpha=0.3)


def _candles(fig, chart: Chart) -> None:
    data = dict(list(chart.data.items())[:MAX_PANELS])
    with_volume = any(c.volume for cs in data.values() for c in cs)
    ratios = [3, 1] * len(data) if with_volume else [1] * len(data)
    grid = fig.add_gridspec(len(ratios), 1, height_ratios=ratios, hspace=0.5, left=0.08, right=0.97, top=0.9, bottom=0.06)
    first = None
    for i, (sym, cs) in enumerate(data.items()):
        ax = fig.add_subplot(grid[i * (2 if with_volume else 1)], sharex=first)
        first = first or ax
        for c in cs:
            x0, x1 = _days(c.start), _days(c.end)
            w = (x1 - x0) * 0.7
            mid = (x0 + x1) / 2
            color = UP if c.close >= c.open else DOWN
            ax.vlines(mid, c.low, c.high, color=color, linewidth=1)
            body = max(abs(c.close - c.open), (c.high - c.low) * 0.01 or 1e-9)
            ax.bar(mid, body, w, bottom=min(c.open, c.close), color="white" if c.is_open else color, edgecolor=color, linewidth=1)
        ax.set_ylabel(sym, fontsize=9)
        _time_axis(ax)
        if with_volume:
            vax = fig.add_subplot(grid[i * 2 + 1], sharex=first)
            vax.bar([_days((c.start + c.end) / 2) for c in cs], [c.volume or 0 for c in cs],
                    [_days(c.end - c.start) * 0.7 for c in cs], color="#94a3b8")
            vax.set_ylabel("volume", fontsize=8)
            _time_axis(vax)


def _price(fig, chart: Chart) -> None:
    data = dict(list(chart.data.items())[:MAX_PANELS])
    axes = fig.subplots(len(data), 1, sharex=True, squeeze=False)[:, 0]
    fig.subplots_adjust(left=0.1, right=0.97, top=0.88, bottom=0.07, hspace=0.35)
    for i, (ax, (sym, pts)) in enumerate(zip(axes, data.items())):
        ax.plot([_days(t) for t, _ in pts], [p for _, p in pts], color=PALETTE[i % len(PALETTE)], linewidth=1.2)
        ax.set_ylabel(sym, fontsize=9)
        _time_axis(ax)


def _hashtags(fig, chart: Chart) -> None:
    n = len(chart.data)
    cols = min(n, 3)
    rows = (n + cols - 1) // cols
    axes = fig.subplots(rows, cols, squeeze=False)
    fig.subplots_adjust(left=0.15, right=0.97, top=0.85, bottom=0.06, hspace=0.45, wspace=0.8)  # room for long tags
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    for ax, (start, tags) in zip(axes.flat, chart.data):
        names = [f"#{t}" for t, _ in tags][::-1]
        ax.barh(names, [c for _, c in tags][::-1], color=PALETTE[0])
        ax.set_title(f"window {agg.fmt_time(start)[11:]}", fontsize=9)
        ax.tick_params(labelsize=8)
        ax.grid(True, axis="x", alpha=0.3)


def _trend(fig, chart: Chart) -> None:
    starts, series = chart.data
    ax = fig.add_subplot(1, 1, 1)
    fig.subplots_adjust(left=0.07, right=0.8, top=0.88, bottom=0.08)
    xs = [_days(s) for s in starts]
    for i, (tag, counts) in enumerate(series.items()):
        ax.plot(xs, counts, marker="o", markersize=3, label=f"#{tag}", color=PALETTE[i % len(PALETTE)])
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    ax.set_ylabel("posts per window")
    _time_axis(ax)


def _units(fig, chart: Chart) -> None:
    ax = fig.add_subplot(1, 1, 1)
    fig.subplots_adjust(left=0.1, right=0.97, top=0.88, bottom=0.12)
    syms = [s for s, _, _ in chart.data]
    bars = ax.bar(syms, [u for _, u, _ in chart.data], color=[PALETTE[i % len(PALETTE)] for i in range(len(syms))])
    ax.bar_label(bars, labels=[f"{u:,.4g}" for _, u, _ in chart.data], fontsize=8)
    ax.set_ylabel("units traded")
    ax.set_yscale("log" if _spread([u for _, u, _ in chart.data]) > 1000 else "linear")
    ax.grid(True, axis="y", alpha=0.3)
    ax.tick_params(axis="x", labelrotation=30 if len(syms) > 6 else 0)


def _spread(values) -> float:
    positive = [v for v in values if v > 0]
    return max(positive) / min(positive) if positive else 1.0


def _value(fig, chart: Chart) -> None:
    rows = chart.data.rows
    tree = fig.add_axes([0.03, 0.06, 0.55, 0.8])
    rects = agg.squarify([v for _, v, _ in rows], 0, 0, 1, 1)
    for i, ((sym, v, _), (x, y, w, h)) in enumerate(zip(rows, rects)):
        tree.add_patch(_rect(x, y, w, h, PALETTE[i % len(PALETTE)]))
        if w > 0.08 and h > 0.06:  # a label that fits; the bars beside name every symbol
            tree.text(x + w / 2, y + h / 2, f"{sym}\n${v:,.0f}", ha="center", va="center", fontsize=8, color="white")
    tree.set_xlim(0, 1)
    tree.set_ylim(1, 0)
    tree.axis("off")
    bars = fig.add_axes([0.68, 0.1, 0.29, 0.74])
    syms = [s for s, _, _ in rows][::-1]
    bars.barh(syms, [v for _, v, _ in rows][::-1], color=[PALETTE[i % len(PALETTE)] for i in range(len(rows))][::-1])
    bars.set_xlabel("USD")
    bars.xaxis.set_major_formatter(_dollars())
    bars.tick_params(labelsize=8)
    bars.grid(True, axis="x", alpha=0.3)


def _dollars():
    from matplotlib.ticker import FuncFormatter

    def fmt(v, _pos):
        a = abs(v)
        return f"${v / 1e6:,.1f}M" if a >= 1e6 else f"${v / 1e3:,.0f}k" if a >= 1e3 else f"${v:,.0f}"

    return FuncFormatter(fmt)


def _rect(x, y, w, h, color):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, facecolor=color, edgecolor="white", linewidth=1.5)
