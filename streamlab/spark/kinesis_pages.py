"""Kinesis pages: one GetRecords response as one Arrow record batch, decoded column-wise.

botocore's shape parser walks every field of every record in Python (about half the reader's time
at 10,000 records a page). `take_raw_records`, a `before-parse` hook on the reader's client, lifts
the records out of the JSON body, and `get_page` decodes them column by column into a record batch
in `SCHEMA`'s Arrow form, the form Spark checks a Python source's batches against. Used by the
driver (`KinesisStreamReader._page`) and the executors (`kinesis_source.read_range`); the driver
keeps a shard's pages in a `ShardBuffer` until Spark commits them.

A page holds one row per Kinesis record (the driver's buffer and the offsets count Kinesis records).
`user_records(batch)`, applied where a batch is handed to Spark, splits each KPL aggregate
(`streamlab.kpl`) into its user records: `partitionKey` and `explicitHashKey` from the aggregate's
tables, `subSequenceNumber` its index (null for a record that is not an aggregate), the Kinesis
record's `sequenceNumber` and arrival time on each. A corrupt aggregate stays one row, its raw bytes
in `data` and the reason in `kplError` (`bad KPL aggregate (md5)`), for the quarantine.
"""

from __future__ import annotations

import bisect
import functools
import json
from binascii import a2b_base64
from dataclasses import dataclass, field
from typing import Any, Optional

from pyspark.sql.types import BinaryType, LongType, StringType, StructField, StructType, TimestampType

from streamlab.kpl import MAGIC, BadAggregate, deaggregate

SCHEMA = StructType(
    [
        StructField("data", BinaryType()),
        StructField("streamName", StringType()),
        StructField("shardId", StringType()),
        StructField("partitionKey", StringType()),
        StructField("sequenceNumber", StringType()),
        StructField("approximateArrivalTimestamp", TimestampType()),
        # KPL aggregates (see user_records): null for a record that is not one
        StructField("subSequenceNumber", LongType()),
        StructField("explicitHashKey", StringType()),
        StructField("kplError", StringType()),
    ]
)
#: GetRecords returns at most 10,000 records (or 10 MiB) per call.
GET_RECORDS_LIMIT = 10_000
#: where the GetRecords hook leaves the records it took out of the response body.
RAW_RECORDS = "streamlab:RawRecords"


def take_raw_records(response_dict: dict, customized_response_dict: dict, **_) -> None:
    """botocore `before-parse` hook for GetRecords: lift the records out of the JSON body.

    botocore's shape parser walks every field of every record in Python (about half the reader's
    time at 10,000 records a page); `get_page` decodes the same JSON column-wise instead. The rest of
    the response (NextShardIterator, MillisBehindLatest, errors) is parsed by botocore as usual.
    """
    body = response_dict.get("body")
    if response_dict.get("status_code") != 200 or not isinstance(body, bytes) or body[:1] != b"{":
        return
    doc = json.loads(body)
    records = doc.pop("Records", None)
    if records is None:
        return
    customized_response_dict[RAW_RECORDS] = records
    doc["Records"] = []
    response_dict["body"] = json.dumps(doc).encode()


@dataclass
class Page:
    """The part of one GetRecords response to keep: records as a batch, their sequence numbers as ints."""

    batch: Any  # pyarrow.RecordBatch in SCHEMA's Arrow form (0 rows when empty)
    seqs: list
    next_iterator: Optional[str]
    caught_up: bool  # MillisBehindLatest 0 and a short page: nothing more right now
    at_cutoff: bool  # a record newer than the cut-off was seen (and left out)


def get_page(client, stream: str, shard: str, iterator: str, cutoff: Optional[float] = None) -> Page:
    """One GetRecords call, decoded column-wise; records that arrived after `cutoff` (epoch s) are left out."""
    resp = client.get_records(ShardIterator=iterator, Limit=GET_RECORDS_LIMIT)
    raw = resp.get(RAW_RECORDS)
    if raw is not None:  # lifted out of the JSON body by take_raw_records
        data = [a2b_base64(r["Data"]) for r in raw]
        keys = [r["PartitionKey"] for r in raw]
        seq_text = [r["SequenceNumber"] for r in raw]
        arrival = [float(r["ApproximateArrivalTimestamp"]) for r in raw]
    else:  # parsed by botocore (a client without the hook)
        recs = resp["Records"]
        data = [r["Data"] for r in recs]
        keys = [r["PartitionKey"] for r in recs]
        seq_text = [r["SequenceNumber"] for r in recs]
        arrival = [r["ApproximateArrivalTimestamp"].timestamp() for r in recs]
    received = len(seq_text)
    # the first record that arrived after the cut-off ends the page (arrival times are approximate,
    # so every record is looked at, not only the last)
    keep = None if cutoff is None else next((i for i, t in enumerate(arrival) if t > cutoff), None)
    at_cutoff = keep is not None
    if at_cutoff:
        data, keys, seq_text, arrival = data[:keep], keys[:keep], seq_text[:keep], arrival[:keep]
    return Page(
        batch=record_batch(stream, shard, data, keys, seq_text, arrival),
        seqs=[int(q) for q in seq_text],
        next_iterator=resp.get("NextShardIterator"),
        caught_up=resp.get("MillisBehindLatest", 0) == 0 and received < GET_RECORDS_LIMIT,
        at_cutoff=at_cutoff,
    )


@functools.lru_cache(maxsize=1)
def arrow_schema() -> Any:
    """SCHEMA in the Arrow form Spark checks a returned batch against."""
    from streamlab.spark.arrow import arrow_schema_of

    return arrow_schema_of(SCHEMA)


def record_batch(stream: str, shard: str, data: list, keys: list, seqs: list, arrival: list) -> Any:
    import pyarrow as pa

    n = len(data)
    micros = [round(t * 1_000_000) for t in arrival]
    columns = [data, [stream] * n, [shard] * n, keys, seqs, micros, [None] * n, [None] * n, [None] * n]
    schema = arrow_schema()
    return pa.RecordBatch.from_arrays([pa.array(c, type=f.type) for c, f in zip(columns, schema)], schema=schema)


def user_records(batch: Any) -> Any:
    """`batch` (one row per Kinesis record) with every KPL aggregate split into its user records.

    A batch without an aggregate is returned as it is (one vectorised look at the first 4 bytes)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not batch.num_rows:
        return batch
    marked = pc.equal(pc.binary_slice(batch.column(0), 0, len(MAGIC)), pa.scalar(MAGIC))
    if not pc.any(marked).as_py():
        return batch
    rows = []
    for row, is_agg in zip(batch.to_pylist(), marked.to_pylist()):
        if not is_agg:
            rows.append(row)
            continue
        try:
            users = deaggregate(row["data"], row["partitionKey"])
        except BadAggregate as exc:  # kept whole: the consume quarantines it with this reason
            rows.append({**row, "kplError": str(exc)})
            continue
        for sub, user in enumerate(users):
            rows.append({**row, "data": user.data, "partitionKey": user.partition_key,
                         "explicitHashKey": user.explicit_hash_key, "subSequenceNumber": sub})
    return pa.RecordBatch.from_pylist(rows, schema=arrow_schema())


def compact(batches: list, begin: int, end: int) -> Any:
    """Rows [begin, end) of consecutive batches as one record batch holding only those rows (a
    sliced batch would pickle its whole parent buffers)."""
    import pyarrow as pa

    table = pa.Table.from_batches(batches, schema=arrow_schema()).slice(begin, end - begin).combine_chunks()
    out = table.to_batches()
    return out[0] if out else pa.RecordBatch.from_pylist([], schema=arrow_schema())


@dataclass
class ShardBuffer:
    """Records read from one shard after `base` and not yet committed, in sequence order.

    `batches` hold the records (one Arrow batch per GetRecords page, the first possibly sliced);
    `seqs` their sequence numbers as ints, one per record.
    """

    base: str
    batches: list = field(default_factory=list)
    seqs: list = field(default_factory=list)
    iterator: Optional[str] = None
    closed: bool = False  # the shard was split/merged and fully read
    at_cutoff: bool = False  # AvailableNow: reached records newer than the cut-off

    def tail(self) -> str:
        return f"after:{self.seqs[-1]}" if self.seqs else self.base

    def position_after(self, n: int) -> str:
        return f"after:{self.seqs[n - 1]}" if n else self.base

    def index_of(self, seq: Optional[int]) -> Optional[int]:
        if seq is None:
            return None
        i = bisect.bisect_left(self.seqs, seq)
        return i if i < len(self.seqs) and self.seqs[i] == seq else None

    def add(self, page: Page) -> None:
        if page.seqs:
            self.batches.append(page.batch)
            self.seqs += page.seqs

    def rows(self, begin: int, end: int) -> Any:
        """Records [begin, end) as one compact record batch."""
        return compact(self.batches, begin, end)

    def drop_through(self, seq: int) -> None:
        """Forget records up to and including `seq` (committed)."""
        i = bisect.bisect_right(self.seqs, seq)
        del self.seqs[:i]
        while i and self.batches:
            first = self.batches[0]
            if first.num_rows <= i:
                i -= first.num_rows
                self.batches.pop(0)
            else:
                self.batches[0] = first.slice(i)
                i = 0
        self.base = f"after:{seq}"
