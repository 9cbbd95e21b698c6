"""Sinks, registered by name. A new sink is one module plus one line here."""

from streamlab.sinks.base import Batcher, DeadLetter, Entry, Failure, RetryBatch, Sink, Stats
from streamlab.sinks.file import FileSink
from streamlab.sinks.kinesis import KinesisSink
from streamlab.sinks.null import NullSink
from streamlab.sinks.socket import SocketSink
from streamlab.sinks.stdout import StdoutSink
from streamlab.sinks.kafka import KafkaSink
from streamlab.sinks.firehose import FirehoseSink

SINKS: dict[str, type[Sink]] = {cls.name: cls for cls in (StdoutSink, FileSink, NullSink, KinesisSink, KafkaSink, SocketSink, FirehoseSink)}

__all__ = ["SINKS", "Sink", "Batcher", "DeadLetter", "Entry", "Failure", "RetryBatch", "Stats"]
