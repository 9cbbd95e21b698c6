"""Rules parsed and evaluated on scripted prices: no servers, exact numbers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from streamlab.alerts.evaluate import CLEARED, FIRED, Evaluator
from streamlab.alerts.rules import gather_rules, load_rules_file, parse_rule
from streamlab.errors import ConfigError

M, H = 60_000, 3_600_000
T0 = 1_764_000_000_000


def run(rules, prices, cooldown_ms=0):
    """Feed (symbol, price, event_time) triples; the alerts as (state, rule, symbol, price, time) tuples."""
    ev = Evaluator([parse_rule(r) for r in rules], cooldown_ms)
    out = []
    for sym, price, t in prices:
        out += [(a.state, a.rule, a.symbol, a.price, a.event_time) for a in ev.observe(sym, price, t)]
    return out


# -- parsing -------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, kind, op, threshold, period", [
    ("BTCUSDT < 3800", "price", "<", Decimal(3800), None),
    ("BTCUSDT > 4000", "price", ">", Decimal(4000), None),
    ("BTCUSDT>=4000.5", "price", ">=", Decimal("4000.5"), None),
    ("BTCUSDT change > 200 in 1h", "change", ">", Decimal(200), H),
    ("ETHUSDT change% > 5 in 1d", "change%", ">", Decimal(5), 24 * H),
    ("* change% > 2 in 5m", "change%", ">", Decimal(2), 5 * M),
    ("  btcusdt CHANGE < 1 in 90s ", "change", "<", Decimal(1), 90_000),
])
def test_rules_parse(text, kind, op, threshold, period):
    r = parse_rule(text)
    assert (r.kind, r.op, r.threshold, r.period_ms) == (kind, op, threshold, period)


@pytest.mark.parametrize("text, says", [
    ("BTCUSDT", "cannot read the rule"),
    ("BTCUSDT = 4000", "cannot read the rule"),
    ("BTCUSDT > lots", "cannot read the rule"),
    ("BTCUSDT change > 200", "needs a period"),
    ("BTCUSDT > 200 in 1h", "has a period"),
    ("BTCUSDT change > 200 in 1 fortnight", "cannot read the period"),
    ("", "cannot read the rule"),
])
def test_bad_rules_say_what_is_accepted(text, says):
    with pytest.raises(ConfigError) as err:
        parse_rule(text)
    assert says in err.value.message
    assert "change%" in err.value.one_line() or "5m" in err.value.one_line()
    assert err.value.exit_code == 2


def test_a_bad_rule_on_the_command_line_is_one_line_exit_2(run_cli):
    r = run_cli("alert", "--source", "kinesis", "--stream", "s", "--rule", "BTCUSDT is high")
    assert r.code == 2
    assert r.err.count("\n") == 1 and "cannot read the rule 'BTCUSDT is high'" in r.err and "accepted:" in r.err
    assert "Traceback" not in r.err


def test_symbols_match_with_or_without_the_provider_prefix():
    r = parse_rule("BTCUSDT > 1")
    assert r.matches("BTCUSDT") and r.matches("btcusdt") and r.matches("BINANCE:BTCUSDT")
    assert not r.matches("BTCUSDC") and not r.matches("ETHUSDT")
    assert parse_rule("* > 1").matches("anything")


def test_rules_from_toml_and_yaml(tmp_path):
    toml = tmp_path / "rules.toml"
    toml.write_text('cooldown = "10m"\nrules = ["BTCUSDT < 3800", {rule = "BTCUSDT change > 200 in 1h"}]\n')
    got = load_rules_file(toml)
    assert [r.text for r in got.rules] == ["BTCUSDT < 3800", "BTCUSDT change > 200 in 1h"]
    assert got.cooldown_ms == 10 * M
    yml = tmp_path / "rules.yaml"
    yml.write_text("rules:\n  - BTCUSDT > 4000\n  - ETHUSDT change% > 5 in 1d\n")
    assert [r.text for r in load_rules_file(yml).rules] == ["BTCUSDT > 4000", "ETHUSDT change% > 5 in 1d"]
    both = gather_rules(("* change% > 2 in 5m",), toml)
    assert len(both.rules) == 3


def test_a_bad_rules_file_names_the_file_and_the_rule(tmp_path):
    p = tmp_path / "rules.toml"
    p.write_text('rules = ["BTCUSDT < 3800", "BTCUSDT sideways"]\n')
    with pytest.raises(ConfigError, match=r"rules.toml, rule 2: cannot read the rule 'BTCUSDT sideways'"):
        load_rules_file(p)
    p.write_text("rules = [\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_rules_file(p)
    p.write_text('other = 1\n')
    with pytest.raises(ConfigError, match="has no list `rules`"):
        load_rules_file(p)
    with pytest.raises(ConfigError, match="cannot read the rules file"):
        load_rules_file(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="no rules given"):
        gather_rules((), None)


# -- evaluation ----------------------------------------------------------------------------------
def test_exactly_at_the_threshold_does_not_fire_for_strict_comparisons():
    prices = [("BTCUSDT", "4000", T0), ("BTCUSDT", "4000.01", T0 + 1), ("BTCUSDT", "4000", T0 + 2)]
    assert run(["BTCUSDT > 4000"], prices) == [
        (FIRED, "BTCUSDT > 4000", "BTCUSDT", Decimal("4000.01"), T0 + 1),
        (CLEARED, "BTCUSDT > 4000", "BTCUSDT", Decimal("4000"), T0 + 2),
    ]
    assert [a[0] for a in run(["BTCUSDT >= 4000"], prices)] == [FIRED]  # true throughout: fires once
    # a move of exactly 200 is not "more than 200"; 200.01 is
    moves = [("BTCUSDT", 3800, T0), ("BTCUSDT", 4000, T0 + 30 * M), ("BTCUSDT", "4000.01", T0 + 40 * M)]
    assert run(["BTCUSDT change > 200 in 1h"], moves) == [(FIRED, "BTCUSDT change > 200 in 1h", "BTCUSDT", Decimal("4000.01"), T0 + 40 * M)]


def test_fires_on_becoming_true_not_on_every_record_and_clears():
    prices = [("BTCUSDT", p, T0 + i * M) for i, p in enumerate([3900, 3790, 3780, 3770, 3810, 3820, 3700])]
    got = run(["BTCUSDT < 3800"], prices)
    assert [(a[0], a[3]) for a in got] == [(FIRED, 3790), (CLEARED, 3810), (FIRED, 3700)]


def test_cooldown_quiets_a_flapping_rule_and_fires_once_it_passed_if_still_true():
    flap = [3790, 3810, 3790, 3810, 3790, 3790]  # one record a minute
    prices = [("BTCUSDT", p, T0 + i * M) for i, p in enumerate(flap)]
    prices.append(("BTCUSDT", 3790, T0 + 11 * M))  # still below, 11 min after the first alert
    got = run(["BTCUSDT < 3800"], prices, cooldown_ms=10 * M)
    assert [(a[0], a[4]) for a in got] == [(FIRED, T0), (CLEARED, T0 + M), (FIRED, T0 + 11 * M)]
    # without a cooldown every flip is announced
    assert len(run(["BTCUSDT < 3800"], prices)) == 5


def test_change_uses_the_price_one_period_ago_and_says_so():
    ev = Evaluator([parse_rule("BTCUSDT change > 200 in 1h")])
    assert ev.observe("BTCUSDT", 3800, T0) == []
    assert ev.observe("BTCUSDT", 3950, T0 + 30 * M) == []
    assert ev.observe("BTCUSDT", 3990, T0 + 61 * M) == []  # the price an hour before: 3800 (at T0), moved 190
    [alert] = ev.observe("BTCUSDT", 4200, T0 + 91 * M)  # an hour before T0+91m: 3950 (at T0+30m)
    assert (alert.reference, alert.reference_time, alert.change) == (3950, T0 + 30 * M, 250)
    assert "moved +250 from 3950 at" in alert.text() and "BTCUSDT change > 200 in 1h" in alert.text()
    # a fall counts as a move too
    ev2 = Evaluator([parse_rule("ETHUSDT change% > 5 in 1d")])
    ev2.observe("ETHUSDT", 200, T0)
    [drop] = ev2.observe("ETHUSDT", 189, T0 + H)
    assert drop.change == Decimal("-5.5") and "moved -5.50%" in drop.text()


def test_a_gap_compares_with_the_last_price_known_before_it():
    prices = [("BTCUSDT", 3800, T0), ("BTCUSDT", 3810, T0 + 5 * M), ("BTCUSDT", 4100, T0 + 5 * H)]
    ev = Evaluator([parse_rule("BTCUSDT change > 200 in 1h")])
    alerts = [a for p in prices for a in ev.observe(*p)]
    assert [(a.reference, a.reference_time) for a in alerts] == [(3810, T0 + 5 * M)]


def test_a_symbol_first_seen_mid_period_is_compared_with_its_first_price():
    # ETH appears 40 min into BTC's hour: its first price is the reference until it has an hour of history
    prices = [("BTCUSDT", 3800, T0), ("ETHUSDT", 100, T0 + 40 * M), ("ETHUSDT", 103, T0 + 50 * M), ("ETHUSDT", 106, T0 + 55 * M)]
    ev = Evaluator([parse_rule("* change% > 5 in 1h")])
    alerts = [a for p in prices for a in ev.observe(*p)]
    assert [(a.symbol, a.price, a.reference, a.reference_time) for a in alerts] == [("ETHUSDT", 106, 100, T0 + 40 * M)]
    assert ev.stats.symbols == 2


def test_out_of_order_records_do_not_become_the_latest_price_but_serve_as_references():
    ev = Evaluator([parse_rule("BTCUSDT < 3800"), parse_rule("BTCUSDT change > 100 in 10m")])
    assert ev.observe("BTCUSDT", 3900, T0) == []
    assert ev.observe("BTCUSDT", 3900, T0 + 10 * M) == []
    assert ev.observe("BTCUSDT", 3700, T0 + 5 * M) == []  # late and low: the latest is still 3900
    assert ev.latest("BTCUSDT") == (T0 + 10 * M, Decimal(3900))
    assert ev.stats.late == 1
    # 3700 at T0+5m is now the price 10 minutes before T0+15m
    [alert] = ev.observe("BTCUSDT", 3850, T0 + 15 * M)
    assert (alert.rule, alert.reference, alert.reference_time, alert.change) == ("BTCUSDT change > 100 in 10m", 3700, T0 + 5 * M, 150)


def test_same_records_same_alerts_and_the_history_stays_bounded():
    prices = [("BTCUSDT", 3800 + (i % 50) * 7, T0 + i * 1000) for i in range(20_000)]
    a = run(["BTCUSDT change > 300 in 10s", "BTCUSDT > 4100"], prices, cooldown_ms=60_000)
    b = run(["BTCUSDT change > 300 in 10s", "BTCUSDT > 4100"], prices, cooldown_ms=60_000)
    assert a == b and len(a) > 10
    ev = Evaluator([parse_rule("BTCUSDT change > 300 in 10s")])
    for p in prices:
        ev.observe(*p)
    assert len(ev._symbols["BTCUSDT"].times) < 600  # 10 s of history plus the trim slack, not 20,000


def test_symbols_without_rules_keep_nothing():
    ev = Evaluator([parse_rule("BTCUSDT < 1")])
    for i in range(100):
        assert ev.observe("DOGEUSDT", 1, T0 + i) == []
    assert ev._symbols["DOGEUSDT"].times == []


# -- the float path: the same answers as Decimal ---------------------------------------------------
def alerts_both_ways(rules, prices, cooldown_ms=0):
    """The alerts (as dicts, with their Decimal numbers) and stats of the default evaluator and of one
    deciding every rule in Decimal; asserts they are the same."""
    got = []
    for exact in (False, True):
        ev = Evaluator([parse_rule(r) for r in rules], cooldown_ms, exact=exact)
        out = [(a.to_dict(), repr(a)) for p in prices for a in ev.observe(*p)]
        got.append((out, ev.stats))
    assert got[0] == got[1]
    return got[0][0]


def test_floats_decide_as_decimal_does_at_and_around_the_thresholds():
    # moves that are exact in Decimal but not in binary: 0.3 - 0.1 is 0.19999999999999998 as floats
    assert len(alerts_both_ways(["X change >= 0.2 in 1h", "X change > 0.2 in 1h"], [("X", "0.1", T0), ("X", "0.3", T0 + M)])) == 1
    # (3.3 - 3) / 3 * 100 is 9.999999999999996 as floats, exactly 10 in Decimal
    got = alerts_both_ways(["X change% >= 10 in 1h", "X change% < 10 in 1h"], [("X", 3, T0), ("X", "3.3", T0 + M)])
    assert [(a["state"], a["rule"]) for a, _ in got] == [("fired", "X change% < 10 in 1h"), ("fired", "X change% >= 10 in 1h"),
                                                         ("cleared", "X change% < 10 in 1h")]
    # prices that differ from the threshold past a double's 17 digits
    near = [("X", "4000.0000000000000000001", T0), ("X", "3999.9999999999999999999", T0 + 1), ("X", "4000", T0 + 2),
            ("X", "4000.0000000000000000001", T0 + 3)]
    got = alerts_both_ways(["X > 4000", "X >= 4000", "X < 4000", "X <= 4000"], near)
    assert [(a["state"][0], a["rule"][2:]) for a, _ in got] == [
        ("f", "> 4000"), ("f", ">= 4000"),  # 4000.0000000000000000001
        ("c", "> 4000"), ("c", ">= 4000"), ("f", "< 4000"), ("f", "<= 4000"),  # 3999.9999999999999999999
        ("f", ">= 4000"), ("c", "< 4000"),  # 4000
        ("f", "> 4000"), ("c", "<= 4000")]  # 4000.0000000000000000001
    # beyond a double's range, a reference of 0, negative prices
    odd = [("X", "1E+400", T0), ("X", "-1E+400", T0 + 1), ("X", "1E-400", T0 + 2), ("X", 0, T0 + 3), ("X", "2E-400", T0 + 4),
           ("X", -5, T0 + 5), ("X", 0, T0 + 6), ("X", 7, T0 + 7)]
    alerts_both_ways(["X > 0", "X < 0", "X >= 0", "X change > 0 in 1h", "X change >= 0 in 1s", "X change% > 0 in 1h",
                      "X change% >= 100 in 1s", "X change% > 1000000 in 1s"], odd)


def test_floats_decide_as_decimal_does_on_random_walks():
    import random

    rng = random.Random(15)
    rules = [f"X {op} {v}" for op in ("<", "<=", ">", ">=") for v in ("1", "1.1", "0.7")]
    rules += [f"X {kind} {op} {v} in {p}" for kind in ("change", "change%") for op in ("<", "<=", ">", ">=")
              for v in ("0", "0.1", "0.3", "10", "33.3") for p in ("2s", "1m")]
    for digits in (1, 2, 20):  # on a coarse grid prices and moves hit the thresholds exactly, often
        prices = [("X", Decimal(rng.randint(0, 20 * 10 ** digits)).scaleb(-digits), T0 + i * 1000 + rng.choice((0, 0, 0, -1500)))
                  for i in range(1500)]
        assert len(alerts_both_ways(rules, prices, cooldown_ms=rng.choice((0, 5000)))) > 100
