"""Byte layout of segment files, shared by the writer and the reader.

FORMAT.md beside this module describes the layout. All integers are
little-endian. Format version 2 checks records with CRC-32C (Castagnoli),
which current CPUs compute in hardware. Each record ends with the CRC of its
bytes, continuing from CHAIN_RESIDUE, so the CRC-32C of a whole segment up to
any record boundary is CHAIN_RESIDUE: one CRC call checks any number of
records. Segments written in version 1 use CRC-32 as ``zlib.crc32`` computes
it, and stay readable and appendable.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from crc32c import crc32c

MAGIC = b"RAAL"
FORMAT_VERSION = 2
# Version -> the CRC function of the segment header in that version.
CHECKSUMS: dict[int, Callable[..., int]] = {1: zlib.crc32, 2: crc32c}

# Segment header: magic, version, actor id length, reserved, segment number,
# base sequence number; then the actor id and a CRC of everything before it.
SEGMENT_HEADER_FIXED = struct.Struct("<4sHBBQQ")
SEGMENT_HEADER_CRC = struct.Struct("<I")
SEGMENT_NUMBER_OFFSET = 8
BASE_SEQ_OFFSET = 16
ACTOR_ID_OFFSET = SEGMENT_HEADER_FIXED.size

# The CRC-32C of any bytes followed by their own CRC-32C (little-endian),
# whatever the bytes: the residue of the CRC.
CHAIN_RESIDUE = 0x48674BC7

# Bytes of framing around each payload, in both versions.
RECORD_OVERHEAD = 20

# Version 2 record: payload length, sequence number, the length again with
# every bit inverted, then the payload and the record CRC: the CRC-32C of
# everything before it in the record, continuing from CHAIN_RESIDUE.
V2_RECORD_HEADER = struct.Struct("<IQI")
V2_HEADER_SIZE = V2_RECORD_HEADER.size
LENGTH_CHECK_MASK = 0xFFFF_FFFF
_pack_v2_header = V2_RECORD_HEADER.pack

# Version 1 record: header CRC (of the 16 bytes after it), payload length,
# payload CRC, sequence number, then the payload.
V1_RECORD_HEADER = struct.Struct("<IIIQ")
V1_HEADER_SIZE = V1_RECORD_HEADER.size
_pack_v1_fields = struct.Struct("<IIQ").pack

_pack_crc = struct.Struct("<I").pack

MAX_ENTRY_SIZE = 0xFFFF_FFFF


class FormatError(Exception):
    """A segment header failed a check; ``offset`` is where in the file."""

    def __init__(self, offset: int, reason: str) -> None:
        self.offset = offset
        self.reason = reason
        super().__init__(f"byte offset {offset}: {reason}")


@dataclass(frozen=True)
class SegmentHeader:
    actor_id: str
    number: int
    base_seq: int
    size: int
    version: int


def segment_header_size(actor_id: str) -> int:
    return SEGMENT_HEADER_FIXED.size + len(actor_id) + SEGMENT_HEADER_CRC.size


def encode_segment_header(actor_id: str, number: int, base_seq: int, version: int = FORMAT_VERSION) -> bytes:
    actor = actor_id.encode("ascii")
    fields = SEGMENT_HEADER_FIXED.pack(MAGIC, version, len(actor), 0, number, base_seq) + actor
    return fields + SEGMENT_HEADER_CRC.pack(CHECKSUMS[version](fields))


def decode_segment_header(data: bytes) -> SegmentHeader:
    """Decode the header at the start of ``data``; raise FormatError if it is damaged."""
    fixed_size = SEGMENT_HEADER_FIXED.size
    if len(data) < fixed_size:
        raise FormatError(0, f"the file is {len(data)} bytes long, shorter than a segment header")

    magic, version, actor_length, _reserved, number, base_seq = SEGMENT_HEADER_FIXED.unpack_from(data)
    if magic != MAGIC:
        raise FormatError(0, f"the file does not start with the segment magic {MAGIC!r} (found {magic!r})")
    if version not in CHECKSUMS:
        known = " and ".join(map(str, CHECKSUMS))
        raise FormatError(4, f"unsupported format version {version} (this code reads versions {known})")
    if not 1 <= actor_length <= 64:
        raise FormatError(6, f"invalid actor id length {actor_length}")

    crc_offset = fixed_size + actor_length
    size = crc_offset + SEGMENT_HEADER_CRC.size
    if len(data) < size:
        raise FormatError(0, f"the file is {len(data)} bytes long, shorter than its {size}-byte segment header")
    (stored_crc,) = SEGMENT_HEADER_CRC.unpack_from(data, crc_offset)
    if CHECKSUMS[version](data[:crc_offset]) != stored_crc:
        raise FormatError(0, "segment header CRC mismatch")

    actor_id = data[fixed_size:crc_offset].decode("ascii", errors="replace")
    return SegmentHeader(actor_id=actor_id, number=number, base_seq=base_seq, size=size, version=version)


def encode_record(seq: int, payload: bytes, version: int = FORMAT_VERSION) -> bytes:
    """Frame one entry as a record of a segment in format ``version``."""
    if version == 2:
        length = len(payload)
        body = _pack_v2_header(length, seq, length ^ LENGTH_CHECK_MASK) + payload
        return body + _pack_crc(crc32c(body, CHAIN_RESIDUE))
    fields = _pack_v1_fields(len(payload), zlib.crc32(payload), seq)
    return _pack_crc(zlib.crc32(fields)) + fields + payload


def record_size(payload_length: int) -> int:
    return RECORD_OVERHEAD + payload_length
