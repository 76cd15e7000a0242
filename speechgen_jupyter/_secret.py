"""An API key that cannot leak by accident.

The key lives only inside a `Secret`: its repr and str are redacted, so a
client printed in a cell, logged, pickled into a traceback's locals or stored
in widget state shows `'<redacted>'`. The raw value is read in exactly one
place, when a request's Authorization header is written.
"""

from __future__ import annotations

import hmac


class Secret:
    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The raw key. Call only where it goes onto the wire."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('<redacted>')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple:
        # Never pickle the key into a saved object or a multiprocessing message.
        raise TypeError("a Secret cannot be pickled; build the client again from SPEECHGEN_API_KEY")

    def __bool__(self) -> bool:
        return bool(self._value)


def scrub(text: str, secret: Secret | None) -> str:
    """Remove the key from text that may echo a request (a server's error message, say)."""
    if secret and secret.reveal() and secret.reveal() in text:
        return text.replace(secret.reveal(), "<redacted>")
    return text
