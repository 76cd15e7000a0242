"""Reading a small JSON object from a request, with a size cap and clear 400s.

Why not Starlette's `request.json()`: it reads the whole body, however large,
before parsing, and lets a decode error, bad UTF-8 or a 30,000-deep nesting
escape as a 500. Why not a validation library (pydantic and the like): the
server would carry a large dependency to produce its own wording, while the
API answers with its own codes (`invalid_json`, `invalid_body`, `missing_text`,
...) that the bad-input corpus pins down; the standard library's `json` does
the parsing, and this module only caps it and names what went wrong.
"""

from __future__ import annotations

import json
from typing import Any

from .bodystream import body_chunks
from .problems import ApiError


async def read_json_object(request: Any, max_bytes: int) -> dict[str, Any]:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in body_chunks(request):
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        raise ApiError(400, "invalid_json", "The request body is empty; send a JSON object.")
    why: str | None
    try:
        value = json.loads(raw)
    except UnicodeDecodeError:
        why = "it is not UTF-8 text"
    except json.JSONDecodeError as exc:
        why = f"{exc.msg.lower()} at character {exc.pos}"
    except RecursionError:
        why = "it nests too deeply"
    except ValueError as exc:  # Python's own limits, such as its 4300-digit limit for integers
        why = "a number in it has too many digits" if "digits" in str(exc) else "it cannot be read"
    else:
        why = None
    if why is not None:
        raise ApiError(400, "invalid_json", f"The request body is not valid JSON ({why}); send one JSON object, as UTF-8.")
    if not isinstance(value, dict):
        raise ApiError(400, "invalid_body", 'The request body must be a JSON object, such as {"text": "Hello", "voice": "en-us-male-1"}.')
    if _has_lone_surrogate(value):
        raise ApiError(
            400,
            "invalid_json",
            "The request body holds a string that is not valid Unicode (an unpaired surrogate escape such as "
            "\\ud800); send the text as UTF-8.",
        )
    return value


def _too_large(max_bytes: int) -> ApiError:
    return ApiError(400, "body_too_large", f"The JSON body is over {max_bytes} bytes; send a smaller one (split long text).")


def _has_lone_surrogate(value: Any) -> bool:
    """Whether any key or string in the parsed JSON holds an unpaired surrogate.

    JSON's \\uXXXX escapes can spell one, json.loads accepts it, and such a
    str cannot be encoded as UTF-8: SQLite, the engine and the JSON response
    would each fail on it with a 500. Iterative: the value may nest as deep as
    the parser allowed.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if any("\ud800" <= c <= "\udfff" for c in item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
