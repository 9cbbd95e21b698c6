"""KPL aggregation: many user records in one Kinesis record, the Kinesis Producer Library's format.

An aggregate is `MAGIC` (F3 89 9A C2), a protobuf `AggregatedRecord`, then the 16-byte MD5 of the
protobuf bytes:

    message AggregatedRecord { repeated string partition_key_table = 1;
                               repeated string explicit_hash_key_table = 2;
                               repeated Record records = 3; }
    message Record { required uint64 partition_key_index = 1; optional uint64 explicit_hash_key_index = 2;
                     required bytes data = 3; repeated Tag tags = 4; }

Written and read here in pure Python (no protobuf runtime): the format is four field types, and the
tests check it against the independent `aws-kinesis-agg` package both ways. A user record's
sub-sequence number is its index in `records`. Data that does not start with `MAGIC` is not an
aggregate and passes through as one record (as the KCL does); data that does but
whose MD5 or protobuf is wrong raises `BadAggregate` (`bad KPL aggregate (md5)`): the readers keep it
whole, for the quarantine, rather than guess. Tags are skipped when read and never written.

`Packer` fills one aggregate up to a size limit, knowing the exact size before each record is added
(the sink packs per shard, see `sinks/kinesis.py`). `shard_hash(key)` is Kinesis' own placement:
the MD5 of the partition key as a 128-bit unsigned integer, looked up in the shards' hash-key ranges.
"""

from __future__ import annotations

import hashlib
from typing import Iterable, NamedTuple, Optional

MAGIC = b"\xf3\x89\x9a\xc2"
DIGEST_BYTES = 16
#: Kinesis' limit per record: the data plus the partition key
MAX_RECORD_BYTES = 1024 * 1024


class BadAggregate(ValueError):
    """Data that starts like a KPL aggregate but is not a valid one; str() is the reason shown."""


class UserRecord(NamedTuple):
    partition_key: str
    explicit_hash_key: Optional[str]
    data: bytes


def shard_hash(partition_key: str) -> int:
    """Where Kinesis puts a partition key: MD5 of its UTF-8 bytes, as a 128-bit unsigned integer."""
    return int.from_bytes(hashlib.md5(partition_key.encode()).digest(), "big")


def is_aggregate(data: bytes) -> bool:
    return data[:4] == MAGIC


# ----------------------------------------------------------------------------------------------
# writing
_ONE_BYTE = [bytes((n,)) for n in range(0x80)]


def _varint(n: int) -> bytes:
    if n < 0x80:
        return _ONE_BYTE[n]
    if n < 0x4000:
        return bytes(((n & 0x7F) | 0x80, n >> 7))
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _varint_size(n: int) -> int:
    return (max(n.bit_length(), 1) + 6) // 7


def _field(tag: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2) with a one-byte tag."""
    return bytes((tag,)) + _varint(len(payload)) + payload


def _record_header(pk_index: int, ehk_index: Optional[int], data_len: int) -> bytes:
    """A `records` field up to its data: the data itself follows (kept apart, copied once in build)."""
    inner = b"\x08" + _varint(pk_index)
    if ehk_index is not None:
        inner += b"\x10" + _varint(ehk_index)
    inner += b"\x1a" + _varint(data_len)
    return b"\x1a" + _varint(len(inner) + data_len) + inner


class Packer:
    """One aggregate being filled: `add` records (up to a size limit), then `build()`. The first
    record is always taken, so an empty aggregate never refuses one."""

    def __init__(self) -> None:
        self._pks: dict[str, int] = {}
        self._ehks: dict[str, int] = {}
        self._parts: list[bytes] = []  # encoded Record fields: header, data, header, data, ...
        self.count = 0
        self.size = len(MAGIC) + DIGEST_BYTES  # the aggregate's bytes so far
        self.first_key: Optional[str] = None
        self.first_ehk: Optional[str] = None

    def _cost(self, pk: str, ehk: Optional[str], data: bytes) -> tuple[int, int, Optional[int], bytes]:
        """(bytes the record adds, its key's index, its hash key's index, its field header)."""
        extra, pk_i = 0, self._pks.get(pk)
        if pk_i is None:
            pk_i = len(self._pks)
            raw = pk.encode()
            extra += 1 + _varint_size(len(raw)) + len(raw)
        ehk_i = None
        if ehk is not None:
            ehk_i = self._ehks.get(ehk)
            if ehk_i is None:
                ehk_i = len(self._ehks)
                extra += 1 + _varint_size(len(ehk)) + len(ehk)
        header = _record_header(pk_i, ehk_i, len(data))
        return extra + len(header) + len(data), pk_i, ehk_i, header

    def size_with(self, pk: str, data: bytes, ehk: Optional[str] = None) -> int:
        """The aggregate's size in bytes were this record added."""
        return self.size + self._cost(pk, ehk, data)[0]

    def add(self, pk: str, data: bytes, ehk: Optional[str] = None, limit: Optional[int] = None) -> bool:
        """Add the record, unless the aggregate would then exceed `limit` bytes (then False, nothing added)."""
        grow, pk_i, ehk_i, header = self._cost(pk, ehk, data)
        if limit is not None and self.count and self.size + grow > limit:
            return False
        if pk_i == len(self._pks):
            self._pks[pk] = pk_i
        if ehk is not None and ehk_i == len(self._ehks):
            self._ehks[ehk] = ehk_i
        if self.first_key is None:
            self.first_key, self.first_ehk = pk, ehk
        self._parts += (header, data)
        self.size += grow
        self.count += 1
        return True

    def build(self) -> bytes:
        body = b"".join(
            [_field(0x0A, k.encode()) for k in self._pks]
            + [_field(0x12, k.encode()) for k in self._ehks]
            + self._parts
        )
        return MAGIC + body + hashlib.md5(body).digest()


def aggregate(records: Iterable[tuple]) -> bytes:
    """One aggregate of `(partition_key, data)` or `(partition_key, explicit_hash_key, data)` tuples
    (no size limit: `Packer` is the one that keeps to one)."""
    packer = Packer()
    for rec in records:
        pk, ehk, data = (rec[0], None, rec[1]) if len(rec) == 2 else rec
        packer.add(pk, data, ehk)
    return packer.build()


# ----------------------------------------------------------------------------------------------
# reading
def _read_varint(buf: bytes, i: int) -> tuple[int, int]:
    n = shift = 0
    while True:
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        if b < 0x80:
            return n, i
        shift += 7
        if shift > 63:
            raise BadAggregate("bad KPL aggregate (protobuf: varint too long)")


def _fields(buf: bytes, start: int, end: int):
    """(field number, value) of one protobuf message; value is an int or a (begin, end) slice."""
    i = start
    while i < end:
        key, i = _read_varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _read_varint(buf, i)
        elif wire == 2:
            length, i = _read_varint(buf, i)
            value = (i, i + length)
            i += length
        elif wire == 1:
            value, i = None, i + 8
        elif wire == 5:
            value, i = None, i + 4
        else:
            raise BadAggregate(f"bad KPL aggregate (protobuf: wire type {wire})")
        if i > end:
            raise BadAggregate("bad KPL aggregate (protobuf: truncated)")
        yield number, value


def deaggregate(data: bytes, partition_key: str = "", explicit_hash_key: Optional[str] = None) -> list[UserRecord]:
    """The user records in `data`, in order (index = sub-sequence number).

    Not an aggregate (no `MAGIC`): `data` itself, with the Kinesis record's own keys. A corrupt
    aggregate raises `BadAggregate` with the reason (`bad KPL aggregate (md5)`, `(protobuf: ...)`)."""
    if not is_aggregate(data):
        return [UserRecord(partition_key, explicit_hash_key, data)]
    if len(data) < len(MAGIC) + DIGEST_BYTES:
        raise BadAggregate("bad KPL aggregate (too short for its MD5)")
    body, digest = data[len(MAGIC):-DIGEST_BYTES], data[-DIGEST_BYTES:]
    if hashlib.md5(body).digest() != digest:
        raise BadAggregate("bad KPL aggregate (md5)")
    try:
        return _decode(body)
    except (IndexError, TypeError, UnicodeDecodeError) as exc:
        raise BadAggregate(f"bad KPL aggregate (protobuf: {type(exc).__name__})") from None


def _decode(body: bytes) -> list[UserRecord]:
    pks: list[str] = []
    ehks: list[str] = []
    raw_records: list[tuple[int, int]] = []
    for number, value in _fields(body, 0, len(body)):
        if number == 1:
            pks.append(body[value[0]:value[1]].decode())
        elif number == 2:
            ehks.append(body[value[0]:value[1]].decode())
        elif number == 3:
            raw_records.append(value)
    out = []
    for begin, end in raw_records:
        pk_i = ehk_i = payload = None
        for number, value in _fields(body, begin, end):
            if number == 1:
                pk_i = value
            elif number == 2:
                ehk_i = value
            elif number == 3:
                payload = body[value[0]:value[1]]
        if pk_i is None or payload is None or pk_i >= len(pks) or (ehk_i is not None and ehk_i >= len(ehks)):
            raise BadAggregate("bad KPL aggregate (protobuf: a record without its key or data)")
        out.append(UserRecord(pks[pk_i], ehks[ehk_i] if ehk_i is not None else None, payload))
    return out
