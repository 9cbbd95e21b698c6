"""Amazon Kinesis Data Streams through PutRecords.

Limits (AWS's, enforced before the call so nothing is rejected whole): 500 records and 5 MiB per
call, 1 MiB per record where a record counts its data *plus* its partition key; a larger record goes
to the dead-letter file with the reason. The partition key is the record's key (the symbol for
trades), so one symbol keeps its order within a shard; a record without a key gets a random one so
keyless data spreads over all shards.

PutRecords answers index-aligned: entries with an `ErrorCode` (`ProvisionedThroughputExceeded
Exception`, `InternalFailure`) are returned as failures and the Batcher resends only those, with
full-jitter backoff. A whole call that was throttled, failed with a 5xx or lost its connection
raises `RetryBatch`. botocore's own retry is off for this client (aws/session.py, `sdk_retries`):
the Batcher is the only layer, so every resend shows in the summary's `retried`. A stream that
disappears mid-run is fatal: one line, and the Batcher dead-letters what it still holds.

`--aggregate` packs user records into KPL aggregates (`streamlab.kpl`), the way the Kinesis Producer
Library does: each record goes to the shard Kinesis would put it in (the MD5 of its partition key
in the hash-key ranges ListShards reports, re-listed every minute), a shard's records are packed in
order into aggregates of up to 1 MiB, and each aggregate is put with its first record's partition
key and an ExplicitHashKey inside that shard's range, so the order per key holds. On AWS a shard
takes 1,000 records/s and 1 MiB/s: an aggregate counts as one record, so this lifts the first
limit (the second stays). Readers must de-aggregate (the KCL and streamlab's reader do). A user
record counts as sent when its aggregate was accepted; a failed aggregate's records are returned
as failures one by one, so the Batcher resends or dead-letters each of them.
"""

from __future__ import annotations

import bisect
import hashlib
import random
import time
from typing import Optional

import click

from streamlab import kpl
from streamlab.errors import ConfigError, ResourceNotFound
from streamlab.sinks.aws_batch import put_batch
from streamlab.sinks.base import MiB, Entry, Failure, Sink

MAX_KEY_CHARS = 256  # AWS: PartitionKey is 1..256 Unicode characters
RANDOM_KEY_CHARS = 16
#: an aggregate's data, leaving room for its partition key (256 characters, up to 1 KiB in UTF-8)
AGGREGATE_BYTES = kpl.MAX_RECORD_BYTES - 1024
#: what a user record may add to an aggregate besides its data and key (protobuf tags, lengths,
#: indexes) plus its key a second time (the key table): an upper bound, so batches stay under 5 MiB
AGGREGATED_OVERHEAD = 24
#: PutRecords takes at most this many (aggregated) records per call
MAX_CALL_RECORDS = 500
#: how often the shard map is listed again (a reshard changes the hash-key ranges)
SHARD_MAP_SECONDS = 60.0


class KinesisSink(Sink):
    name = "kinesis"
    summary = "Amazon Kinesis Data Streams (PutRecords: 500 records / 5 MiB a call, partition key = symbol)."
    options = (
        click.Option(
            ["--stream"],
            default=None,
            metavar="NAME",
            help="Kinesis stream for --sink kinesis (must exist: `streamlab provision kinesis --stream NAME`).",
        ),
        click.Option(
            ["--aggregate"],
            is_flag=True,
            default=False,
            help="--sink kinesis: pack records per shard into KPL aggregates of up to 1 MiB, as the Kinesis Producer "
            "Library does (per-key order holds). On AWS this lifts a shard's 1,000 records/s limit (the 1 MiB/s "
            "limit stays); readers must de-aggregate (the KCL and `streamlab consume` do).",
        ),
    )
    max_batch_records = 500
    max_batch_bytes = 5 * MiB
    max_record_bytes = 1 * MiB
    linger = 0.1
    needs_aws = True  # built with the command's one AWS handle: `KinesisSink(settings, aws=aws, ...)`

    def __init__(self, settings, *, aws=None, rng: Optional[random.Random] = None, **options):
        super().__init__(settings, **options)
        self.stream: Optional[str] = options.get("stream")
        self._rng = rng or random.Random()
        self.client = None
        self.aws = aws
        self.aggregate = bool(options.get("aggregate"))
        if self.aggregate:  # user records per call: as many as 5 MiB of aggregates hold
            self.max_batch_records = 100_000
            self.max_batch_bytes = 5 * MiB - 64 * 1024  # room for each aggregate's magic, MD5 and key
        self._starts: list[int] = []  # the open shards' StartingHashKeys, sorted
        self._listed_at = -SHARD_MAP_SECONDS

    # -- keys and sizes ---------------------------------------------------------------------
    @staticmethod
    def partition_key(key: Optional[str]) -> Optional[str]:
        """The key Kinesis gets: the record's own, hashed when too long, None when there is none."""
        if not key:
            return None
        if len(key) > MAX_KEY_CHARS:
            # same key -> same hash -> same shard, so the order guarantee per key survives
            return hashlib.sha256(key.encode()).hexdigest()
        return key

    def entry_size(self, entry: Entry) -> int:
        key = self.partition_key(entry.key)
        size = len(entry.data) + (len(key.encode()) if key is not None else RANDOM_KEY_CHARS)
        if self.aggregate:  # the key again (the aggregate's key table) and the protobuf framing
            size += (len(key.encode()) if key is not None else RANDOM_KEY_CHARS) + AGGREGATED_OVERHEAD
        return size

    def _random_key(self) -> str:
        return format(self._rng.getrandbits(64), "016x")

    # -- contract ---------------------------------------------------------------------------
    def open(self) -> None:
        from streamlab.aws.kinesis import require_stream

        if not self.stream:
            raise ConfigError("--sink kinesis needs --stream", "add --stream NAME (create it with `streamlab provision kinesis --stream NAME`)")
        if self.aws is None:
            raise TypeError("KinesisSink needs the command's AWS handle: KinesisSink(settings, aws=AWS(settings), ...)")
        require_stream(self.aws, self.stream)
        self.client = self.aws.client("kinesis", validate=False, sdk_retries=False)  # send() keeps AWS's limits; the Batcher retries

    def send(self, batch: list[Entry]) -> list[Failure]:
        if self.aggregate:
            return self._send_aggregated(batch)
        pk, rand = self.partition_key, self._random_key
        records = [{"Data": e.data, "PartitionKey": pk(e.key) or rand()} for e in batch]
        return self._put(records)

    def _put(self, records: list[dict]) -> list[Failure]:
        return put_batch(
            lambda: self.client.put_records(StreamName=self.stream, Records=records),
            gone=self._gone, failed_count="FailedRecordCount", responses="Records",
        )

    # -- aggregation (--aggregate) ----------------------------------------------------------
    def shard_of(self, key: str) -> int:
        """The index (in hash-key order) of the open shard Kinesis puts `key` in."""
        now = time.monotonic()
        if now - self._listed_at > SHARD_MAP_SECONDS:
            self._starts, self._listed_at = self._list_starts(), now
        return max(0, bisect.bisect_right(self._starts, kpl.shard_hash(key)) - 1)

    def _list_starts(self) -> list[int]:
        starts, kw = [], {"StreamName": self.stream}
        while True:
            resp = self.client.list_shards(**kw)
            starts += [int(s["HashKeyRange"]["StartingHashKey"]) for s in resp["Shards"]
                       if "EndingSequenceNumber" not in s.get("SequenceNumberRange", {})]  # closed shards take no writes
            if not resp.get("NextToken"):
                return sorted(starts)
            kw = {"NextToken": resp["NextToken"]}

    def _send_aggregated(self, batch: list[Entry]) -> list[Failure]:
        """Pack `batch` per shard into aggregates, put them in one call, map failures back to the entries."""
        pk, rand = self.partition_key, self._random_key
        keys = [pk(e.key) or rand() for e in batch]
        shards: dict[str, int] = {}  # keys repeat (a symbol each): hash each once per batch
        per_shard: dict[int, list[int]] = {}
        for i, key in enumerate(keys):
            shard = shards.get(key)
            if shard is None:
                shard = shards[key] = self.shard_of(key)
            per_shard.setdefault(shard, []).append(i)
        aggregates: list[tuple[kpl.Packer, list[int]]] = []
        for members in per_shard.values():
            packer, held = kpl.Packer(), []
            for i in members:
                if not packer.add(keys[i], batch[i].data, limit=AGGREGATE_BYTES):
                    aggregates.append((packer, held))
                    packer, held = kpl.Packer(), []
                    packer.add(keys[i], batch[i].data)
                held.append(i)
            aggregates.append((packer, held))
        now, later = aggregates[:MAX_CALL_RECORDS], aggregates[MAX_CALL_RECORDS:]
        records = [{"Data": p.build(), "PartitionKey": p.first_key, "ExplicitHashKey": str(kpl.shard_hash(p.first_key))}
                   for p, _ in now]
        failures = [Failure(i, f.code, f.message, f.unsure, f.outage) for f in self._put(records) for i in now[f.index][1]]
        # a batch spread over more than 500 shards: the rest goes in the next call
        failures += [Failure(i, "NotSentYet", "more aggregates than one PutRecords call takes") for _, held in later for i in held]
        return sorted(failures, key=lambda f: f.index)  # resent in their original order

    def _gone(self) -> ResourceNotFound:
        return ResourceNotFound(
            f"stream {self.stream} disappeared while producing ({self.aws.where()})",
            f"undelivered records are in the dead-letter file; recreate it with `streamlab provision kinesis --stream {self.stream}`",
        )

    def describe(self) -> str:
        where = f" ({self.aws.where()})" if self.aws is not None else ""
        how = ", KPL-aggregated" if self.aggregate else ""
        return f"kinesis stream {self.stream}{where}{how}"
