"""An API key that cannot leak by accident.

The key lives only inside a `Secret`: its repr and str are redacted, so a
client printed in a cell, logged, pickled into a traceback's locals or stored
in widget state shows `'<redacted>'`. The raw value is read in exactly one
place, when a request's Authorization header is written.
"""

from __future__ import annotations

import hashlib
import hmac

# Fixed, public, and part of every fingerprint: it only keeps our fingerprints
# from matching another program's hash of the same key.
_FINGERPRINT_SALT = b"speechgen_jupyter/account-fingerprint/v1"
# PBKDF2 rounds: computed once per client (~50 ms), but each guess of a short,
# hand-made key costs an attacker who holds a fingerprint the same work.
_FINGERPRINT_ROUNDS = 100_000


class Secret:
    __slots__ = ("_value", "_fingerprint")

    def __init__(self, value: str) -> None:
        self._value = value
        self._fingerprint: str | None = None

    def reveal(self) -> str:
        """The raw key. Call only where it goes onto the wire."""
        return self._value

    def fingerprint(self) -> str:
        """A stable name for the account this key opens, that does not contain or reveal the key.

        Records and caches on disk are kept per account (two keys never share
        one another's speech or models), and are keyed by this, never by the
        key. It is a salted PBKDF2-SHA256 digest, so it cannot be turned back
        into the key, and guessing a weak key from it is slow.
        """
        if self._fingerprint is None:
            digest = hashlib.pbkdf2_hmac("sha256", self._value.encode(), _FINGERPRINT_SALT, _FINGERPRINT_ROUNDS)
            self._fingerprint = "acct-" + digest[:12].hex()
        return self._fingerprint

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


def scrub_value(value: object, secret: Secret | None) -> object:
    """`value` (a parsed JSON body: dicts, lists, strings) with the key removed wherever it appears.

    A server that echoes the request (its Authorization header, a URL with the
    key in it) may do so anywhere in its answer, keys of objects included, and
    an error keeps that answer as `err.body`.
    """
    if not secret or not secret.reveal():
        return value
    if isinstance(value, str):
        return scrub(value, secret)
    if isinstance(value, dict):
        return {scrub_value(k, secret): scrub_value(v, secret) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_value(v, secret) for v in value]
    return value
