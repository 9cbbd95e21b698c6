"""Column-wise decoding of Kafka record batches for the Spark Kafka reader (kafka-python 3.x).

kafka-python's consumer turns every record into a `DefaultRecord` and then a 13-field
`ConsumerRecord` (~10 us a record here), which made it the Kafka reader's bottleneck: the reader
only needs four columns. `install(consumer)` gives one consumer (ours, never the user's) a
`PartitionRecords` that yields one `Chunk` per record batch instead: offsets, timestamps, keys
and values as lists, read straight out of the batch buffer after kafka-python has checked its
CRC and decompressed it. Everything else (fetching, sessions, positions, errors) stays
kafka-python's; its `poll()` then returns `{tp: [Chunk, ...]}` and `max_poll_records` counts
chunks.

It relies on two internals, checked when installed: `consumer._fetcher.PartitionRecords` with an
`_unpack_records(tp, records, key_deserializer, value_deserializer)` generator (kafka-python 3.0)
and `DefaultRecordBatch._maybe_uncompress` / `_buffer` / `_pos`. Where they are missing,
`install` returns False and the reader keeps kafka-python's records (`chunks_of` turns those into
the same Chunks); tests assert the fast path is the one in use with the pinned kafka-python.

Only read_uncommitted consumers (the reader's) are changed: aborted transactions matter only
under read_committed. Control batches (transaction markers) are skipped, as kafka-python does.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator


class Chunk:
    """The records of one record batch at offsets >= the fetch offset, column-wise."""

    __slots__ = ("offsets", "timestamps", "keys", "values", "timestamp_type")

    def __init__(self, offsets: list, timestamps: list, keys: list, values: list, timestamp_type: int):
        self.offsets, self.timestamps, self.keys, self.values = offsets, timestamps, keys, values
        self.timestamp_type = timestamp_type

    @property
    def offset(self) -> int:
        """The first offset (kafka-python's fetcher reads this to drop records before the fetch offset)."""
        return self.offsets[0]

    def __len__(self) -> int:
        return len(self.offsets)


def _varint(buf, pos: int) -> tuple[int, int]:
    """A zig-zag varint at `pos`: (value, position after it)."""
    b = buf[pos]
    if b < 0x80:
        return (b >> 1) ^ -(b & 1), pos + 1
    value, shift = b & 0x7F, 7
    while True:
        pos += 1
        b = buf[pos]
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return (value >> 1) ^ -(value & 1), pos + 1
        shift += 7


def decode_batch(batch, min_offset: int = 0) -> Chunk:
    """The records of a kafka-python `DefaultRecordBatch` (magic 2) at offsets >= `min_offset`."""
    batch._maybe_uncompress()
    buf, pos = batch._buffer, batch._pos
    base, first_ts = batch.base_offset, batch.first_timestamp
    log_append = batch.timestamp_type == 1
    offsets: list = []
    timestamps: list = []
    keys: list = []
    values: list = []
    varint = _varint
    for _ in range(batch.records_count):
        length, pos = varint(buf, pos)
        end = pos + length
        pos += 1  # record attributes: unused
        ts_delta, pos = varint(buf, pos)
        offset_delta, pos = varint(buf, pos)
        offset = base + offset_delta
        if offset < min_offset:
            pos = end
            continue
        key_len, pos = varint(buf, pos)
        if key_len >= 0:
            keys.append(bytes(buf[pos : pos + key_len]))
            pos += key_len
        else:
            keys.append(None)
        value_len, pos = varint(buf, pos)
        values.append(bytes(buf[pos : pos + value_len]) if value_len >= 0 else None)
        offsets.append(offset)
        timestamps.append(first_ts + ts_delta)
        pos = end  # headers: not in the reader's schema
    if log_append:
        timestamps = [batch.max_timestamp] * len(offsets)
    return Chunk(offsets, timestamps, keys, values, batch.timestamp_type)


def chunks_of(records: Iterable[Any]) -> Iterator[Chunk]:
    """kafka-python ConsumerRecords (the stock path) as one-record Chunks, so readers see one shape."""
    for r in records:
        if isinstance(r, Chunk):
            yield r
        else:
            yield Chunk([r.offset], [r.timestamp], [r.key], [r.value], r.timestamp_type)


def _chunk_records_class(base):
    class ChunkRecords(base):
        """kafka-python's PartitionRecords, yielding a Chunk per record batch (see module doc)."""

        def _unpack_records(self, tp, records, key_deserializer, value_deserializer):
            from kafka.errors import CorruptRecordError

            try:
                batch = records.next_batch()
                while batch is not None:
                    if self.check_crcs and not batch.validate_crc():
                        raise CorruptRecordError(f"Record batch for partition {tp} at offset {batch.base_offset} failed crc check")
                    if batch.magic != 2:  # message format v0/v1 (Kafka < 0.11): kafka-python's own decoding
                        rows = list(batch)
                        if rows:
                            self.next_fetch_offset = rows[-1].offset + 1
                        yield from (c for c in chunks_of(rows) if c.offset >= self.fetch_offset)
                    else:
                        self.leader_epoch = batch.leader_epoch
                        self.next_fetch_offset = batch.next_offset
                        if not batch.is_control_batch:
                            chunk = decode_batch(batch, self.fetch_offset)
                            if chunk.offsets:
                                self.records_read += len(chunk)
                                yield chunk
                    batch = records.next_batch()
                self.drain()
            except StopIteration:  # as kafka-python: never let a generator swallow it
                raise RuntimeError("StopIteration raised unpacking record batches")

    return ChunkRecords


def install(consumer) -> bool:
    """Make `consumer` return Chunks from poll(); False (and nothing changed) where the
    kafka-python internals this needs are not there."""
    try:
        from kafka.consumer.fetcher import Fetcher
        from kafka.record.default_records import DefaultRecordBatch
    except ImportError:
        return False
    fetcher = getattr(consumer, "_fetcher", None)
    base = getattr(Fetcher, "PartitionRecords", None)
    needed = ("_maybe_uncompress", "records_count", "first_timestamp", "timestamp_type", "next_offset")
    if fetcher is None or base is None or not hasattr(base, "_unpack_records"):
        return False
    if not all(hasattr(DefaultRecordBatch, name) for name in needed):
        return False
    if int(getattr(fetcher, "_isolation_level", 0)) != 0:  # read_committed: kafka-python filters aborted batches
        return False
    fetcher.PartitionRecords = _chunk_records_class(base)
    return True
