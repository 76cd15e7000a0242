"""How a text is cut for streamed playback: a short first part, then parts that grow.

`longtext.split_text` packs as much as one request takes (5,000 characters),
which is right for the fewest requests and wrong for the first sound: a
2,000-character text is one request, heard only when all of it is spoken.
For streaming the parts are sized for latency instead:

* the **first part is one sentence** (or a few very short ones, up to
  `MIN_FIRST_CHARS`), so the first sound costs one sentence's synthesis;
* each next part may be about **twice as long as the one before**, so while
  one part plays, the next (requested a few parts ahead) has time to
  arrive, even from a voice engine slower than real time by half; and the
  number of requests stays logarithmic in the text's length;
* parts end at **sentence boundaries** (the same sentence logic as
  `split_text`: "Dr. Smith" is one sentence), so each part is spoken with
  natural prosody and the joins fall where a reader pauses anyway;
* no part exceeds `max_chars`.

The plan is deterministic: the same text always gives the same parts, so
each part (one request, the unit that is billed and cached) is found in the
speech cache on a re-run, and an interrupted long text resumes where it
stopped.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import _constants as C
from .longtext import LongText, split_sentences
from .types import Speech

__all__ = ["StreamPlan", "plan_parts", "MIN_FIRST_CHARS", "GROWTH"]

#: The first part takes sentences until it has at least this many characters ("Hi." alone is too short to be worth a request).
MIN_FIRST_CHARS = 40
#: Each part may be this many times as long as the one before.
GROWTH = 2.0
#: A part may always hold this many characters, however short the one before (a short sentence, then normal ones).
MIN_PART_CHARS = 160


def plan_parts(text: str, max_chars: int = C.MAX_TEXT_CHARS) -> list[str]:
    """The parts of `text` for streaming, in order (see the module docstring); [] for blank text."""
    if max_chars < 1:
        raise ValueError("max_chars must be at least 1")
    pieces = split_sentences(text, max_chars)
    parts: list[str] = []
    current = ""
    limit = MIN_FIRST_CHARS
    for piece in pieces:
        joined = f"{current} {piece}" if current else piece
        first = not parts
        # The first part closes as soon as it is long enough; later ones when the next sentence would not fit.
        if current and ((first and len(current) >= MIN_FIRST_CHARS) or (not first and len(joined) > limit)):
            parts.append(current)
            limit = min(max_chars, max(MIN_PART_CHARS, int(len(current) * GROWTH)))
            current = piece
        else:
            current = joined
    if current:
        parts.append(current)
    return parts


class StreamPlan(LongText):
    """One text to stream: a `LongText` whose parts are sized for the first sound, not for fewest requests.

    The format check, the request format and the joining are LongText's, so a streamed text
    and a waited-for one cannot drift apart.
    """

    @staticmethod
    def split(text: str, max_chars: int) -> list[str]:
        return plan_parts(text, max_chars)

    @property
    def parts(self) -> list[str]:
        """The texts of the parts, in order (one request each)."""
        return self.chunks

    def finish(self, parts: Sequence[Speech]) -> Speech:
        """The parts joined into the one clip the caller asked for."""
        if len(parts) != len(self.chunks):
            raise ValueError(f"{len(parts)} of {len(self.chunks)} parts: a partial result is never joined")
        return super().finish(parts)
