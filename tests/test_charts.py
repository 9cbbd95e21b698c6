"""`streamlab chart`: from consume's Parquet (local, s3:// on the emulator, a real consume) to a file."""

import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from streamlab.charts import write_demo_chart
from tests.fixtures.aws import unique
from tests.fixtures.charts import TAG_WINDOWS, trade, window, write_batch

T0 = 1_764_000_000_000  # 2025-11-24 16:00:00 UTC


@pytest.fixture
def ticker_out(tmp_path):
    out = tmp_path / "out"
    trades = [trade("BTCUSDT", 90_000 + i, T0 + i * 1000, 0.01 * (i + 1)) for i in range(20)]
    trades += [trade("ETHUSDT", 3_000 + i, T0 + i * 1000 + 500, 0.5) for i in range(20)]
    write_batch(out, "trades", 0, trades[:25])
    write_batch(out, "trades", 1, trades[25:])
    write_batch(out, "windows", 1, [window("BTCUSDT", T0, 90_000, 90_009, 90_000, 90_009, 10, 0.55),
                                    window("ETHUSDT", T0, 3_000, 3_009, 3_000, 3_009, 10, 5.0)])
    write_batch(out, "windows", 2, [window("BTCUSDT", T0 + 10_000, 90_010, 90_019, 90_010, 90_019, 10, 1.55)])
    write_batch(out, "_quarantine", 0, [{"raw": "x", "reason": "not JSON", "position": "0"}])
    return out


@pytest.fixture
def tweets_out(tmp_path):
    out = tmp_path / "tweets-out"
    rows = [{"window_start": T0, "window_end": T0 + 60_000, "rank": 1, "hashtag": "spark", "count": 7},
            {"window_start": T0, "window_end": T0 + 60_000, "rank": 2, "hashtag": "kafka", "count": 3},
            {"window_start": T0 + 60_000, "window_end": T0 + 120_000, "rank": 1, "hashtag": "aws", "count": 4}]
    write_batch(out, "windows", 3, rows, TAG_WINDOWS)
    return out


def _png_size(path):
    from PIL import Image

    with Image.open(path) as im:
        im.load()  # decodes the whole image: a truncated file fails here
        return im.size


@pytest.mark.parametrize("kind", ["candles", "price", "units", "value"])
def test_each_ticker_chart_is_a_png_of_the_requested_size(run_cli, ticker_out, tmp_path, kind):
    png = tmp_path / f"{kind}.png"
    r = run_cli("chart", kind, "--path", str(ticker_out), "--out", str(png), "--size", "900x600")
    assert r.code == 0, r.err
    assert _png_size(png) == (900, 600)
    assert f"wrote {png}" in r.err


@pytest.mark.parametrize("extra", [[], ["--trend"]])
def test_hashtag_charts(run_cli, tweets_out, tmp_path, extra):
    png = tmp_path / "h.png"
    r = run_cli("chart", "hashtags", "--path", str(tweets_out), "--out", str(png), "--top", "2", *extra)
    assert r.code == 0, r.err
    assert _png_size(png) == (1200, 700)


def test_svg_is_an_svg_of_the_requested_size(run_cli, ticker_out, tmp_path):
    svg = tmp_path / "c.svg"
    assert run_cli("chart", "candles", "--path", str(ticker_out), "--out", str(svg), "--size", "1000x500").code == 0
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg") and (root.get("width"), root.get("height")) == ("720pt", "360pt")  # 100 px/in, 72 pt/in


def test_html_is_self_contained_and_carries_the_data(run_cli, ticker_out, tmp_path):
    html = tmp_path / "c.html"
    r = run_cli("chart", "candles", "--path", str(ticker_out), "--out", str(html), "--symbol", "BTCUSDT")
    assert r.code == 0, r.err
    text = html.read_text()
    assert text.count('class="candle"') == 2 and 'data-symbol="ETHUSDT"' not in text
    assert "<script src" not in text and "<link" not in text
    assert text.replace("http://www.w3.org/2000/svg", "").count("http") == 0  # nothing to fetch
    assert 'data-close="90019.0"' in text


def test_since_until_filter_on_event_time(run_cli, ticker_out, tmp_path):
    html = tmp_path / "c.html"
    r = run_cli("chart", "candles", "--path", str(ticker_out), "--out", str(html), "--since", "2025-11-24T16:00:05")
    assert r.code == 0, r.err
    assert html.read_text().count('class="candle"') == 1
    r = run_cli("chart", "price", "--path", str(ticker_out), "--out", str(html), "--until", "2025-11-24T16:00:03Z")
    assert "6 points" in r.err  # 3 seconds of trades, 2 symbols


def test_open_windows_are_drawn_open(run_cli, ticker_out, tmp_path):
    write_batch(ticker_out, "windows_open", 3, [window("BTCUSDT", T0 + 20_000, 90_020, 90_021, 90_019, 90_020)])
    html = tmp_path / "c.html"
    r = run_cli("chart", "candles", "--path", str(ticker_out), "--out", str(html))
    assert r.code == 0 and "1 still open" in r.err
    assert html.read_text().count('class="candle open"') == 1


def test_an_empty_input_is_one_line_and_no_image(run_cli, tmp_path):
    out = tmp_path / "out"
    write_batch(out, "trades", 0, [trade("Index_1", 100.0, T0)])  # the synthetic ticker: no volume
    png = tmp_path / "x.png"
    r = run_cli("chart", "candles", "--path", str(out), "--out", str(png))
    assert r.code == 4 and not png.exists()
    assert r.err.startswith(f"error: no windows under {out}; consume writes a window once the watermark passes its end")
    r = run_cli("chart", "units", "--path", str(out), "--out", str(png))
    assert r.code == 4 and "carry no volume" in r.err and len(r.err.strip().splitlines()) == 1
    r = run_cli("chart", "price", "--path", str(out), "--out", str(png), "--symbol", "BTCUSDT")
    assert r.code == 4 and r.err.startswith(f"error: no trades of BTCUSDT under {out}")


def test_bad_arguments_are_one_line(run_cli, ticker_out, tmp_path):
    r = run_cli("chart", "candles", "--path", str(tmp_path / "nope"))
    assert r.code == 4 and "does not exist" in r.err and "Traceback" not in r.err
    r = run_cli("chart", "candles", "--path", str(ticker_out), "--out", str(tmp_path / "x.jpg"))
    assert r.code == 2 and "end --out with one of .png, .svg, .html" in r.err
    r = run_cli("chart", "candles", "--path", str(ticker_out), "--since", "soon")
    assert r.code == 2 and "cannot read the time 'soon'" in r.err


def test_a_batch_still_being_committed_is_not_read(run_cli, ticker_out, tmp_path):
    from streamlab.charts.data import open_output

    pending = ticker_out / "trades" / "batch_id=7" / "_temporary" / "0"
    pending.mkdir(parents=True)
    (ticker_out / "trades" / "batch_id=7" / "part-00000-x.parquet").write_bytes(b"half written")
    assert open_output(str(ticker_out)).batches("trades") == [0, 1]


def test_chart_from_s3_on_the_emulator(run_cli, aws_env, s3, tmp_path):
    from pyarrow import fs

    bucket = unique("charts")
    s3.create_bucket(Bucket=bucket)
    s3fs = fs.S3FileSystem(endpoint_override=aws_env.url.split("://")[1], scheme="http", region="us-east-1",
                           access_key="testing", secret_key="testing")
    root = f"{bucket}/me/out"
    write_batch(root, "trades", 0, [trade("BTCUSDT", 90_000.0, T0, 0.5), trade("ETHBTC", 0.03, T0, 10.0)], arrow_style=True, filesystem=s3fs)
    png = tmp_path / "v.png"
    r = run_cli("chart", "value", "--path", f"s3://{root}", "--out", str(png))
    assert r.code == 0, r.err
    assert "ETHBTC: converted to USD x BTCUSDT 90,000.00" in r.err and "total $72,000.00" in r.err
    assert _png_size(png) == (1200, 700)
    r = run_cli("chart", "value", "--path", f"s3://{unique('nobucket')}/x")
    assert r.code == 4 and "not found" in r.err


def test_write_demo_chart(ticker_out, tmp_path, capsys):
    png = write_demo_chart(ticker_out)
    assert png == ticker_out / "candles.png" and _png_size(png) == (1200, 900)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert write_demo_chart(empty) is None
    assert "note: no candles chart: no windows under" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["chart", "--help"], ["dashboard", "--help"]])
def test_help_imports_nothing_heavy(argv):
    code = (
        "import sys; from streamlab.cli import main\n"
        f"try: main({argv!r})\n"
        "except SystemExit: pass\n"
        "print([m for m in ('matplotlib', 'pyarrow', 'boto3', 'pydantic', 'PIL') if m in sys.modules], file=sys.stderr)"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.stderr.strip().splitlines()[-1] == "[]", p.stderr
    assert "Usage: streamlab" in p.stdout
