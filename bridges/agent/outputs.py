"""Making an agent's output JSON-able, so it can sit in the envelope, the event store and MCP.

Agents answer with whatever their library likes: pydantic models, dataclasses, enums, datetimes,
sets, bytes. They become their JSON forms (models dumped in JSON mode); anything else becomes its
`repr` rather than failing the step after the agent did its work.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import enum
import math
import uuid
from collections.abc import Mapping
from decimal import Decimal
from pathlib import PurePath
from typing import Any

from pydantic import BaseModel

_MAX_DEPTH = 64


def jsonable(value: Any, _depth: int = 0) -> Any:
    """A JSON-serialisable copy of `value`."""
    if _depth > _MAX_DEPTH:
        return repr(value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    deeper = _depth + 1
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, deeper) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [jsonable(v, deeper) for v in items]
    if isinstance(value, BaseModel):
        return jsonable(value.model_dump(mode="json"), deeper)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value), deeper)
    if isinstance(value, enum.Enum):
        return jsonable(value.value, deeper)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, Decimal, PurePath)):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(bytes(value)).decode()
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            return jsonable(dump(), deeper)
        except Exception:  # a foreign model whose dump fails: its repr below
            pass
    return repr(value)
