"""A stat result that differs from a real one in its device alone (every other field, the
nanosecond times included, as it is): what another mounted file system can give."""

from __future__ import annotations

import os

_SEQUENCE = ("st_mode", "st_ino", "st_dev", "st_nlink", "st_uid", "st_gid", "st_size")


def with_device(st: os.stat_result, device: int) -> os.stat_result:
    """``st`` with ``st_dev`` set to ``device``."""
    fields = list(st)
    fields[2] = device
    extra = {k: getattr(st, k) for k in dir(st) if k.startswith("st_") and k not in _SEQUENCE}
    return os.stat_result(fields, extra)
