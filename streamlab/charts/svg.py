"""Charts as inline SVG strings, for the self-contained HTML charts and the dashboard page.

Plain string building, no library: the output needs no script to show and no network. Every
mark carries `data-symbol` / `data-hashtag` and a `data-tip` (what a hover shows), which the page's
small script uses for the tooltip and for hiding a series when its legend entry is clicked.
"""

from __future__ import annotations

from html import escape
from typing import Sequence

from streamlab.charts import aggregate as agg

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777", "#4b5563", "#65a30d")
UP, DOWN = "#16a34a", "#dc2626"
FONT = 'font-family="system-ui,sans-serif" font-size="11"'
MAX_PANELS = 6


def _svg(width: int, height: int, body: str, cls: str) -> str:
    return (f'<svg class="chart {cls}" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" {FONT}>{body}</svg>')


def _a(value) -> str:
    return escape(str(value), quote=True)


def _num(v: float) -> str:
    a = abs(v)
    return f"{v:,.0f}" if a >= 1000 else f"{v:,.2f}" if a >= 1 else f"{v:.4g}"


def _scale(lo: float, hi: float, a: float, b: float):
    if hi == lo:
        hi, lo = hi + 1, lo - 1
    return lambda v: a + (v - lo) * (b - a) / (hi - lo)


def _hms(ms: int) -> str:
    return agg.fmt_time(ms)[11:]


def _time_ticks(t0: int, t1: int, x, y: float, n: int = 5) -> str:
    out = []
    for i in range(n + 1):
        t = t0 + (t1 - t0) * i // n
        anchor = "start" if i == 0 else "end" if i == n else "middle"
        out.append(f'<text x="{x(t):.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="#64748b">{_hms(t)}</text>')
    return "".join(out)


def _value_ticks(lo: float, hi: float, y, x: float, n: int = 3) -> str:
    out = []
    for i in range(n + 1):
        v = lo + (hi - lo) * i / n
        out.append(f'<line x1="{x:.1f}" x2="{x + 4:.1f}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#cbd5e1"/>'
                   f'<text x="{x - 3:.1f}" y="{y(v) + 4:.1f}" text-anchor="end" fill="#64748b">{_num(v)}</text>')
    return "".join(out)


def _legend(names: Sequence[str], attr: str, x: float, y: float) -> str:
    out = []
    for i, name in enumerate(names):
        yy = y + i * 16
        out.append(f'<g class="legend" data-{attr}="{_a(name)}" style="cursor:pointer"><rect x="{x}" y="{yy - 9}" width="10" height="10" '
                   f'fill="{PALETTE[i % len(PALETTE)]}"/><text x="{x + 14}" y="{yy}">{escape(name)}</text></g>')
    return "".join(out)


def candles(data: dict, width: int = 900, height: int = 500) -> str:
    items = list(data.items())[:MAX_PANELS]
    if not items:
        return _svg(width, height, "", "candles")
    panel = height / len(items)
    t0 = min(c.start for _, cs in items for c in cs)
    t1 = max(c.end for _, cs in items for c in cs)
    x = _scale(t0, t1, 70, width - 15)
    body = []
    for i, (sym, cs) in enumerate(items):
        top, bottom = i * panel + 18, (i + 1) * panel - 20
        vol = any(c.volume for c in cs)
        price_bottom = bottom - (panel * 0.22 if vol else 0)
        lo, hi = min(c.low for c in cs), max(c.high for c in cs)
        y = _scale(lo, hi, price_bottom, top)
        body.append(f'<g class="panel" data-symbol="{_a(sym)}"><text x="4" y="{top - 4:.1f}" font-weight="600">{escape(sym)}</text>')
        body.append(_value_ticks(lo, hi, y, 66))
        vmax = max((c.volume or 0) for c in cs) or 1
        for c in cs:
            cx, w = (x(c.start) + x(c.end)) / 2, max((x(c.end) - x(c.start)) * 0.7, 1)
            color = UP if c.close >= c.open else DOWN
            y0, y1 = sorted((y(c.open), y(c.close)))
            tip = (f"{sym} {_hms(c.start)}-{_hms(c.end)}{' (open)' if c.is_open else ''}: O {_num(c.open)} H {_num(c.high)} "
                   f"L {_num(c.low)} C {_num(c.close)}, {c.count} trades" + (f", volume {c.volume:.4g}" if c.volume else ""))
            body.append(f'<g class="candle{" open" if c.is_open else ""}" data-symbol="{_a(sym)}" data-start="{c.start}" data-close="{c.close}" '
                        f'data-tip="{_a(tip)}"><line x1="{cx:.1f}" x2="{cx:.1f}" y1="{y(c.high):.1f}" y2="{y(c.low):.1f}" stroke="{color}"/>'
                        f'<rect x="{cx - w / 2:.1f}" y="{y0:.1f}" width="{w:.1f}" height="{max(y1 - y0, 1):.1f}" '
                        f'fill="{"white" if c.is_open else color}" stroke="{color}"/></g>')
            if vol:
                vh = (bottom - price_bottom - 4) * (c.volume or 0) / vmax
                body.append(f'<rect class="volume" data-symbol="{_a(sym)}" x="{cx - w / 2:.1f}" y="{bottom - vh:.1f}" width="{w:.1f}" '
                            f'height="{vh:.1f}" fill="#94a3b8"/>')
        body.append("</g>")
    body.append(_time_ticks(t0, t1, x, height - 4))
    return _svg(width, height, "".join(body), "candles")


def price_panels(series: dict, width: int = 900, height: int = 500) -> str:
    """One panel per symbol (own price axis: BTC and DOGE differ 10^5 times), shared time axis."""
    items = [(k, pts) for k, pts in series.items() if pts][:MAX_PANELS]
    if not items:
        return _svg(width, height, "", "price")
    t0 = min(p[0] for _, pts in items for p in pts)
    t1 = max(p[0] for _, pts in items for p in pts)
    x = _scale(t0, t1, 70, width - 15)
    panel = (height - 16) / len(items)
    body = []
    for i, (sym, pts) in enumerate(items):
        top, bottom = i * panel + 22, (i + 1) * panel - 14
        lo, hi = min(p[1] for p in pts), max(p[1] for p in pts)
        y = _scale(lo, hi, bottom, top)
        color = PALETTE[i % len(PALETTE)]
        last_t, last_v = pts[-1]
        tip = f"{sym}: {_num(last_v)} at {_hms(last_t)} (range {_num(lo)} to {_num(hi)})"
        path = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in pts)
        body.append(f'<g class="series" data-symbol="{_a(sym)}" data-last="{last_v}" data-tip="{_a(tip)}">'
                    f'<text x="4" y="{top - 4:.1f}" font-weight="600">{escape(sym)} {_num(last_v)}</text>{_value_ticks(lo, hi, y, 66)}'
                    f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="1.5"/>'
                    f'<circle cx="{x(last_t):.1f}" cy="{y(last_v):.1f}" r="3" fill="{color}"/></g>')
    body.append(_time_ticks(t0, t1, x, height - 4))
    return _svg(width, height, "".join(body), "price")


def lines(series: dict, width: int = 900, height: int = 400, attr: str = "hashtag", cls: str = "trend", normalise: bool = False) -> str:
    """One line per key over time, on one axis (or each scaled to its own range with `normalise`;
    the tooltip carries the real value). Click a legend entry to hide its line."""
    items = [(k, pts) for k, pts in series.items() if pts]
    if not items:
        return _svg(width, height, "", cls)
    t0 = min(p[0] for _, pts in items for p in pts)
    t1 = max(p[0] for _, pts in items for p in pts)
    x = _scale(t0, t1, 60, width - 150)
    body = []
    glo = min(p[1] for _, pts in items for p in pts)
    ghi = max(p[1] for _, pts in items for p in pts)
    if not normalise:
        body.append(_value_ticks(glo, ghi, _scale(glo, ghi, height - 24, 12), 56))
    for i, (key, pts) in enumerate(items):
        lo, hi = (min(p[1] for p in pts), max(p[1] for p in pts)) if normalise else (glo, ghi)
        y = _scale(lo, hi, height - 24, 12)
        path = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in pts)
        last_t, last_v = pts[-1]
        tip = f"{key}: {_num(last_v)} at {_hms(last_t)} (range {_num(lo)} to {_num(hi)})"
        body.append(f'<g class="series" data-{attr}="{_a(key)}" data-last="{last_v}" data-tip="{_a(tip)}">'
                    f'<polyline points="{path}" fill="none" stroke="{PALETTE[i % len(PALETTE)]}" stroke-width="1.5"/>'
                    f'<circle cx="{x(last_t):.1f}" cy="{y(last_v):.1f}" r="3" fill="{PALETTE[i % len(PALETTE)]}"/></g>')
    body.append(_legend([k for k, _ in items], attr, width - 140, 20))
    body.append(_time_ticks(t0, t1, x, height - 6))
    return _svg(width, height, "".join(body), cls)


def bars(items: Sequence[tuple[str, float, str]], width: int = 600, height: int = 300, attr: str = "symbol", cls: str = "bars",
         x0: float = 0, y0: float = 0, wrap: bool = True) -> str:
    """Horizontal bars, largest first: (label, value, tooltip)."""
    body = []
    n = max(len(items), 1)
    row = min((height - 8) / n, 30)  # a few bars stay bars, not slabs
    vmax = max((v for _, v, _ in items), default=0) or 1
    label_w = min(150, max(60, 7 * max((len(k) for k, _, _ in items), default=4)))
    for i, (key, v, tip) in enumerate(items):
        yy = y0 + 4 + i * row
        w = (width - label_w - 70) * v / vmax
        body.append(f'<g class="bar" data-{attr}="{_a(key)}" data-value="{v}" data-tip="{_a(tip)}">'
                    f'<text x="{x0 + label_w - 4:.1f}" y="{yy + row * 0.65:.1f}" text-anchor="end">{escape(key)}</text>'
                    f'<rect x="{x0 + label_w:.1f}" y="{yy + row * 0.12:.1f}" width="{max(w, 1):.1f}" height="{row * 0.76:.1f}" '
                    f'fill="{PALETTE[i % len(PALETTE)]}"/><text x="{x0 + label_w + w + 4:.1f}" y="{yy + row * 0.65:.1f}" '
                    f'fill="#334155">{_num(v)}</text></g>')
    out = "".join(body)
    return _svg(width, height, out, cls) if wrap else out


def treemap(rows: Sequence[tuple[str, float, float]], width: int = 600, height: int = 360) -> str:
    """(symbol, value in USD, units), largest first."""
    rects = agg.squarify([v for _, v, _ in rows], 0, 0, width, height)
    total = sum(v for _, v, _ in rows) or 1
    body = []
    for i, ((sym, v, units), (x, y, w, h)) in enumerate(zip(rows, rects)):
        tip = f"{sym}: ${v:,.2f} ({100 * v / total:.1f}%), {units:,.6g} units"
        label = (f'<text x="{x + w / 2:.1f}" y="{y + h / 2:.1f}" text-anchor="middle" fill="white">'
                 f'<tspan x="{x + w / 2:.1f}" dy="-0.2em">{escape(sym)}</tspan><tspan x="{x + w / 2:.1f}" dy="1.2em">${v:,.0f}</tspan></text>'
                 if w > 50 and h > 30 else "")
        body.append(f'<g class="tile" data-symbol="{_a(sym)}" data-value="{v}" data-tip="{_a(tip)}">'
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{PALETTE[i % len(PALETTE)]}" '
                    f'stroke="white" stroke-width="2"/>{label}</g>')
    return _svg(width, height, "".join(body), "treemap")


def hashtag_windows(per_window, width: int = 900, height: int = 420) -> str:
    """Small multiples: one bar panel per window (oldest left), top hashtags in each."""
    n = max(len(per_window), 1)
    cols = min(n, 3)
    rows = (n + cols - 1) // cols
    pw, ph = width / cols, height / rows
    body = []
    for i, (start, tags) in enumerate(per_window):
        x0, y0 = (i % cols) * pw, (i // cols) * ph
        items = [(f"#{t}", float(c), f"#{t}: {c} posts in the window from {_hms(start)}") for t, c in tags]
        body.append(f'<g class="window" data-start="{start}"><text x="{x0 + 6:.1f}" y="{y0 + 13:.1f}" font-weight="600">window {_hms(start)}</text>')
        body.append(bars(items, int(pw - 10), int(ph - 20), attr="hashtag", x0=x0, y0=y0 + 18, wrap=False))
        body.append("</g>")
    return _svg(width, height, "".join(body), "hashtags")


def render(chart, width: int = 900, height: int = 500) -> str:
    """The SVG for a `charts.build.Chart`."""
    k, d = chart.kind, chart.data
    if k == "candles":
        return candles(d, width, height)
    if k == "price":
        return price_panels(d, width, height)
    if k == "hashtags":
        return hashtag_windows(d, width, height)
    if k == "trend":
        starts, series = d
        return lines({f"#{t}": list(zip(starts, map(float, cs))) for t, cs in series.items()}, width, height)
    if k == "units":
        return bars([(s, u, f"{s}: {u:,.6g} units in {n:,} trades") for s, u, n in d], width, height, cls="units")
    if k == "value":
        half = width * 3 // 5
        tm = treemap(d.rows, half - 10, height)
        bs = bars([(s, v, f"{s}: ${v:,.2f}") for s, v, _ in d.rows], width - half, height, cls="value-bars")
        return f'<div class="row">{tm}{bs}</div>'
    raise ValueError(k)
