"""Amazon Data Firehose (Kinesis Firehose) through PutRecordBatch, for DirectPut delivery streams.

Each record is sent newline-terminated, so the objects Firehose writes to S3 are JSON lines (text
lines stay lines). Limits, AWS's, enforced before the call: 500 records and 4 MiB per call, 1,000
KiB per record *including* that newline; a larger record goes to the dead-letter file with the
reason.

PutRecordBatch answers index-aligned: `FailedPutCount` says how many, `RequestResponses[i]` has an
`ErrorCode` (`ServiceUnavailableException`, `InternalFailure`) for each failed entry. Only those are
returned as failures, so the Batcher resends just them with full-jitter backoff. A whole call that
was throttled or lost its connection raises `RetryBatch`; a delivery stream deleted mid-run is
fatal (one line; the Batcher dead-letters what it holds). At-least-once, like every sink.
"""

from __future__ import annotations

from typing import Optional

import click

from streamlab.errors import ConfigError, ResourceNotFound
from streamlab.sinks.aws_batch import put_batch
from streamlab.sinks.base import MiB, Entry, Failure, Sink

KiB = 1024
MAX_RECORD_BYTES = 1000 * KiB  # after the newline is added


def provision_hint(name: str) -> str:
    return f"create it with `streamlab provision firehose --delivery-stream {name} --bucket BUCKET` (DirectPut, S3 destination)"


class FirehoseSink(Sink):
    name = "firehose"
    summary = "Amazon Data Firehose delivery stream (PutRecordBatch: 500 records / 4 MiB a call, JSON lines in S3)."
    options = (
        click.Option(["--delivery-stream"], default=None, metavar="NAME",
                     help="Firehose delivery stream for --sink firehose (DirectPut; must exist)."),
    )
    max_batch_records = 500
    max_batch_bytes = 4 * MiB
    max_record_bytes = MAX_RECORD_BYTES
    linger = 0.2
    needs_aws = True  # built with the command's one AWS handle: `FirehoseSink(settings, aws=aws, ...)`

    def __init__(self, settings, *, aws=None, **options):
        super().__init__(settings, **options)
        self.stream: Optional[str] = options.get("delivery_stream")
        self.client = None
        self.aws = aws

    @staticmethod
    def line(data: bytes) -> bytes:
        return data if data.endswith(b"\n") else data + b"\n"

    def entry_size(self, entry: Entry) -> int:
        return len(entry.data) + (0 if entry.data.endswith(b"\n") else 1)

    def _not_found(self, during: str = "") -> ResourceNotFound:
        return ResourceNotFound(f"Firehose delivery stream {self.stream} not found{during} in {self.aws.where()}", provision_hint(self.stream))

    def open(self) -> None:
        if not self.stream:
            raise ConfigError("--sink firehose needs --delivery-stream", "add --delivery-stream NAME")
        if self.aws is None:
            raise TypeError("FirehoseSink needs the command's AWS handle: FirehoseSink(settings, aws=AWS(settings), ...)")
        client = self.aws.client("firehose")
        try:
            desc = client.describe_delivery_stream(DeliveryStreamName=self.stream)["DeliveryStreamDescription"]
        except client.exceptions.ResourceNotFoundException:
            raise self._not_found() from None
        kind = desc.get("DeliveryStreamType", "DirectPut")
        if kind != "DirectPut":
            raise ConfigError(
                f"Firehose delivery stream {self.stream} reads from a {kind} source and accepts no direct writes",
                "send to its source instead (e.g. --sink kinesis --stream NAME), or use a DirectPut delivery stream",
            )
        status = desc.get("DeliveryStreamStatus", "ACTIVE")
        if status not in ("ACTIVE", "UPDATING"):
            raise ConfigError(f"Firehose delivery stream {self.stream} is {status}", "wait until it is ACTIVE, then run again")
        self.client = self.aws.client("firehose", validate=False, sdk_retries=False)  # send() keeps AWS's limits; the Batcher retries

    def send(self, batch: list[Entry]) -> list[Failure]:
        records = [{"Data": self.line(e.data)} for e in batch]
        return put_batch(
            lambda: self.client.put_record_batch(DeliveryStreamName=self.stream, Records=records),
            gone=self._gone, failed_count="FailedPutCount", responses="RequestResponses",
        )

    def _gone(self) -> ResourceNotFound:
        return ResourceNotFound(
            f"Firehose delivery stream {self.stream} disappeared while producing ({self.aws.where()})",
            "undelivered records are in the dead-letter file; " + provision_hint(self.stream),
        )

    def describe(self) -> str:
        where = f" ({self.aws.where()})" if self.aws is not None else ""
        return f"firehose delivery stream {self.stream}{where}"
