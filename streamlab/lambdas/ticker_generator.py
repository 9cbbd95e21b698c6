"""The ticker generator Lambda: one random-walk step per symbol, stored and streamed.

Each run reads every item of the DynamoDB table (`symbol` -> `price`), moves each price with
streamlab's synthetic ticker step, writes it back, and sends one record per symbol to Firehose in
streamlab's canonical trade wire form (one JSON object per line). A Firehose batch that still has
failed records after one retry raises, so Lambda counts the run as failed and, after its retries,
sends the event to the on-failure destination (the notification Lambda).

Environment: TABLE_NAME, DELIVERY_STREAM; optional KEY_ATTRIBUTE (default `symbol`). AWS clients
come from boto3's defaults, so AWS_ENDPOINT_URL points them at an emulator in tests.
"""

from __future__ import annotations

import os
import random
import time
from decimal import Decimal
from typing import Callable

from streamlab.random_walk import step
from streamlab.records import Trade

SOURCE = "synthetic"  # the same ticker as `streamlab produce synthetic`, moved by the same step


def read_prices(dynamodb, table: str, key: str = "symbol") -> dict[str, float]:
    prices: dict[str, float] = {}
    kwargs = {"TableName": table, "ConsistentRead": True}
    while True:
        page = dynamodb.scan(**kwargs)
        for item in page.get("Items", []):
            if key in item and "price" in item:
                prices[item[key]["S"]] = float(item["price"]["N"])
        if "LastEvaluatedKey" not in page:
            return prices
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def run(dynamodb, firehose, table: str, delivery_stream: str, rng: random.Random,
        clock: Callable[[], float] = time.time, key: str = "symbol") -> list[Trade]:
    """One tick of every symbol. Returns the records sent."""
    trades: list[Trade] = []
    for symbol, price in sorted(read_prices(dynamodb, table, key).items()):
        new = step(price, rng)
        dynamodb.update_item(
            TableName=table,
            Key={key: {"S": symbol}},
            UpdateExpression="SET price = :p",
            ExpressionAttributeValues={":p": {"N": str(Decimal(str(new)))}},
        )
        now = int(clock() * 1000)
        trades.append(Trade(SOURCE, symbol, new, None, now, now))
    if trades:
        send(firehose, delivery_stream, [t.to_bytes() + b"\n" for t in trades])
    return trades


def send(firehose, delivery_stream: str, payloads: list[bytes]) -> None:
    """PutRecordBatch (a run has a handful of records, far below the 500-record limit); failed
    entries are retried once, then the run fails."""
    pending = payloads
    for _ in range(2):
        resp = firehose.put_record_batch(DeliveryStreamName=delivery_stream, Records=[{"Data": p} for p in pending])
        if not resp.get("FailedPutCount"):
            return
        pending = [p for p, r in zip(pending, resp["RequestResponses"]) if r.get("ErrorCode")]
    raise RuntimeError(f"Firehose {delivery_stream} rejected {len(pending)} of {len(payloads)} records")


def handler(event, context):
    import boto3

    trades = run(
        boto3.client("dynamodb"),
        boto3.client("firehose"),
        os.environ["TABLE_NAME"],
        os.environ["DELIVERY_STREAM"],
        random.Random(),
        key=os.environ.get("KEY_ATTRIBUTE", "symbol"),
    )
    return {"records": len(trades), "prices": {t.symbol: t.price for t in trades}}
