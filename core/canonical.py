"""Canonical JSON: the byte string every content hash is computed over.

Keys sorted, no insignificant white space, UTF-8, and only JSON-native types:
Decimals, dates and UUIDs become strings *before* storing, so the stored JSON
hashes to the same bytes when it is read back years later.
"""
import datetime
import decimal
import hashlib
import json
import uuid


def _default(value):
    if isinstance(value, decimal.Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc)
        return value.isoformat()
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not allowed in a controlled record")


def canonical_json(data) -> bytes:
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default, allow_nan=False
    ).encode("utf-8")


def jsonable(data):
    """The JSON-native form of `data`, as it will read back from a JSONField."""
    return json.loads(canonical_json(data))


def sha256_hex(data) -> str:
    if not isinstance(data, (bytes, bytearray)):
        data = canonical_json(data)
    return hashlib.sha256(data).hexdigest()
