"""A GDF file's fixed header (its first 256 bytes) as numbers, and the bytes of each sample type.

GDF 1.x and 2.x share the positions read here but for the header's length (int64 bytes at 184,
or uint16 blocks of 256 bytes) and the channel count (uint32 or uint16 at 252): the record count
(int64 at 236) and the record duration (uint32 numerator and denominator at 244 and 248).
"""

from __future__ import annotations

from dataclasses import dataclass

GDF_TYPE_BYTES = {1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 8, 8: 8, 16: 4, 17: 8}
"""GDF sample type code -> bytes per sample: the codes MNE reads (int8 ... uint64, float32,
float64)."""

UNKNOWN_COUNT = -1
"""The record count a GDF recorder writes until the recording is closed."""


@dataclass(frozen=True)
class GdfFixed:
    """The fixed header's numbers."""

    version: float
    header_bytes: int
    n_channels: int
    n_records: int
    duration: tuple[int, int]


def fixed_header(head: bytes) -> GdfFixed | None:
    """The numbers of a 256-byte fixed header; ``None`` when it is not GDF."""
    if len(head) < 256 or not head.startswith(b"GDF "):
        return None
    try:
        version = float(head[4:8].decode("ascii"))
    except ValueError:
        return None
    if version < 1.9:
        header = int.from_bytes(head[184:192], "little", signed=True)
        ns = int.from_bytes(head[252:256], "little")
    else:
        header = int.from_bytes(head[184:186], "little") * 256
        ns = int.from_bytes(head[252:254], "little")
    n_records = int.from_bytes(head[236:244], "little", signed=True)
    duration = (int.from_bytes(head[244:248], "little"), int.from_bytes(head[248:252], "little"))
    return GdfFixed(version, header, ns, n_records, duration)
