"""What a trade record may look like on the stream, as Spark column expressions (no UDF).

Besides streamlab's wire form (`streamlab.records.Trade`), producers that streamlab did not write
put the provider's own message into the stream. Each record is read once as a JSON object of
text values (`MAP<STRING,STRING>`: keys stay case-sensitive, which Binance needs: `E` is the event
time, `T` the trade time, `t` the trade id), then recognised as one of:

    wire       {"symbol", "price", "event_time", ...}               one trade
    finnhub    {"type": "trade", "data": [{"p","s","t","v","c"}]}   one trade per element
               {"type": "ping"}                                     skipped (counted, not a problem)
    binance    {"e": "trade"|"aggTrade", "s", "p", "q", "T", "t"|"a"}  one trade (strings are fine)
    combined   {"stream": ..., "data": {a binance event}}           Binance's combined-stream wrapper

`candidates(raw_text)` is an array of trade structs per record (one for most shapes, several for
a Finnhub message, one with `reason` set for a record that is none of these); the dataset
explodes it. Reasons say what is wrong in a way that helps: `not JSON`, `not a JSON object`,
`JSON, but not a trade: keys a, b`, `missing fields: price`, `price is not a number`.
"""

from __future__ import annotations

#: the struct every candidate has (the wire form's fields, as text, plus why it is unusable)
FIELDS = ("source", "symbol", "price", "volume", "event_time", "ingest_time", "trade_id", "reason")
REQUIRED = ("symbol", "price", "event_time")


def _trade(F, source, symbol, price, volume, event_time, ingest_time=None, trade_id=None, reason=None):
    lit_null = F.lit(None).cast("string")
    values = (source, symbol, price, volume, event_time, ingest_time, trade_id, reason)
    return F.struct(*[(v if v is not None else lit_null).cast("string").alias(n) for n, v in zip(FIELDS, values)])


def candidates(F, text):
    """Column: ARRAY<STRUCT<FIELDS as strings>> for the record text `text` (see the module doc)."""
    m = F.from_json(text, "MAP<STRING,STRING>")
    wrapped = F.from_json(m["data"], "MAP<STRING,STRING>")  # combined stream: the event inside
    finnhub = F.from_json(m["data"], "ARRAY<MAP<STRING,STRING>>")
    trimmed = F.ltrim(text)

    def binance(e):
        # event time: E (the event's time, as streamlab's own binance source stamps it), else T (the trade's)
        return _trade(F, F.lit("binance"), e["s"], e["p"], e["q"], F.coalesce(e["E"], e["T"]), None, F.coalesce(e["t"], e["a"]))

    def is_binance(e):
        return e["e"].isin("trade", "aggTrade") & e["s"].isNotNull()

    def problem(reason):
        return F.array(_trade(F, None, None, None, None, None, reason=reason))

    keys = F.array_join(F.array_sort(F.map_keys(m)), ", ")
    finnhub_trades = F.transform(finnhub, lambda x: _trade(F, F.lit("finnhub"), x["s"], x["p"], x["v"], x["t"]))
    return (
        F.when(text.isNull(), problem(F.lit("not JSON")))
        .when(m.isNull() & trimmed.startswith("["), problem(F.lit("not a JSON object")))
        .when(m.isNull(), problem(F.lit("not JSON")))
        .when(m["symbol"].isNotNull() | m["price"].isNotNull() | m["event_time"].isNotNull(),
              F.array(_trade(F, m["source"], m["symbol"], m["price"], m["volume"], m["event_time"], m["ingest_time"], m["trade_id"])))
        .when(m["type"] == "ping", F.array())  # Finnhub's keep-alive: nothing to parse, nothing wrong
        .when((m["type"] == "trade") & finnhub.isNotNull(), finnhub_trades)
        .when(is_binance(m), F.array(binance(m)))
        .when(m["stream"].isNotNull() & is_binance(wrapped), F.array(binance(wrapped)))
        .otherwise(problem(F.concat(F.lit("JSON, but not a trade: keys "), keys)))
    )


def typed(F, c, max_future_seconds: float, reference):
    """The typed columns of candidate struct `c`, and its `_error` (null when the trade is usable).

    `reference` is the record's arrival time (or now): an event time more than `max_future_seconds`
    after it, or before 2000, is refused so that one bad clock cannot move the watermark."""
    price, volume = F.expr(f"try_cast({c}.price AS DOUBLE)"), F.expr(f"try_cast({c}.volume AS DOUBLE)")
    event_time = F.expr(f"try_cast({c}.event_time AS BIGINT)")
    col = F.col(c)
    missing = F.concat_ws(", ", *[F.when(col[f].isNull(), F.lit(f)) for f in REQUIRED])
    finite = ~F.isnan(price) & (F.abs(price) != float("inf"))
    ahead = event_time > (F.unix_millis(reference) + int(max_future_seconds * 1000))
    error = (
        F.when(col["reason"].isNotNull(), col["reason"])
        .when(missing != "", F.concat(F.lit("missing fields: "), missing))
        .when(price.isNull(), F.lit("price is not a number"))
        .when(~finite | (price <= 0), F.lit("price is not a positive finite number"))
        .when(col["volume"].isNotNull() & volume.isNull(), F.lit("volume is not a number"))
        .when(volume.isNotNull() & (F.isnan(volume) | (volume < 0) | (F.abs(volume) == float("inf"))),
              F.lit("volume is negative or not finite"))
        .when(F.trim(col["symbol"]) == "", F.lit("symbol is empty"))
        .when(event_time.isNull(), F.lit("event_time is not a whole number of milliseconds"))
        .when(event_time < 946_684_800_000, F.lit("event_time is before 2000 (seconds instead of milliseconds?)"))
        .when(ahead, F.concat(F.lit(f"event_time is more than {max_future_seconds:g}s ahead of arrival "
                                    "(microseconds instead of milliseconds?)")))
    )
    return {
        "symbol": col["symbol"],
        "price": price,
        "volume": volume,
        "event_time": event_time,
        "ingest_time": F.expr(f"try_cast({c}.ingest_time AS BIGINT)"),
        "source": col["source"],
        "trade_id": col["trade_id"],
        "_error": error,
    }
