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
"""

from __future__ import annotations

import hashlib
import random
from typing import Optional

import click

from streamlab.errors import ConfigError, ResourceNotFound
from streamlab.sinks.aws_batch import put_batch
from streamlab.sinks.base import MiB, Entry, Failure, Sink

MAX_KEY_CHARS = 256  # AWS: PartitionKey is 1..256 Unicode characters
RANDOM_KEY_CHARS = 16


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
        return len(entry.data) + (len(key.encode()) if key is not None else RANDOM_KEY_CHARS)

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
        pk, rand = self.partition_key, self._random_key
        records = [{"Data": e.data, "PartitionKey": pk(e.key) or rand()} for e in batch]
        return put_batch(
            lambda: self.client.put_records(StreamName=self.stream, Records=records),
            gone=self._gone, failed_count="FailedRecordCount", responses="Records",
        )

    def _gone(self) -> ResourceNotFound:
        return ResourceNotFound(
            f"stream {self.stream} disappeared while producing ({self.aws.where()})",
            f"undelivered records are in the dead-letter file; recreate it with `streamlab provision kinesis --stream {self.stream}`",
        )

    def describe(self) -> str:
        where = f" ({self.aws.where()})" if self.aws is not None else ""
        return f"kinesis stream {self.stream}{where}"
