"""JSON out: responses encoded by orjson, several times faster than ``json`` on a page.

orjson refuses integers beyond 64 bits (a client may store one in a record's metadata); such
an answer is written by ``json`` instead, never failed.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from starlette.responses import JSONResponse


def dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


class FastJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return dumps(content)
