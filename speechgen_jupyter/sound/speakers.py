"""Is there more than one voice? A pitch split shared by the client's report and the server's checks.

Chunks of speech (0.3-3 s) each get their median pitch; the best split of
those medians into two groups is scored by how far apart the groups are (in
semitones), how well separated (the gap over the spread inside the groups)
and how much of the voiced time the smaller group holds. A man and a woman
taking turns score gaps of 9-14 semitones and separations of 20 and more;
one espeak voice scores ~1 semitone and at most 4. What it cannot tell: two
speakers of similar pitch, or overlapping speech. It misses those rather
than risk calling one expressive speaker two.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

import numpy as np

__all__ = [
    "PITCH_STEP",
    "SPEAKER_GAP_SEMITONES",
    "SPEAKER_MIN_SHARE",
    "SPEAKER_SEPARATION",
    "looks_like_two",
    "speaker_split",
]

SPEAKER_GAP_SEMITONES = 5.0
SPEAKER_SEPARATION = 6.0
SPEAKER_MIN_SHARE = 0.15
#: Seconds between pitch frames that `speaker_split` expects.
PITCH_STEP = 0.02


class _Span(Protocol):
    start: float
    end: float


def looks_like_two(gap: float, separation: float, share: float) -> bool:
    """Whether a split's scores say two speakers (the server refuses such a sample)."""
    return gap >= SPEAKER_GAP_SEMITONES and separation >= SPEAKER_SEPARATION and share >= SPEAKER_MIN_SHARE


def speaker_split(times: np.ndarray, f0: np.ndarray, segments: Sequence[_Span]) -> tuple[float, float, float]:
    """(gap in semitones, separation, minor share) of the best two-group split
    of chunk pitch medians (from a pitch track every `PITCH_STEP` s, 0 where
    unvoiced); zeros when there is too little to judge (fewer than 4 chunks)."""
    step = PITCH_STEP
    values: list[float] = []
    weights: list[float] = []
    for seg in segments:
        a = seg.start
        while a < seg.end - 0.2:
            b = min(seg.end, a + 3.0)
            if seg.end - b < 1.0:
                b = seg.end
            sel = (times >= a) & (times < b) & (f0 > 0)
            voiced = float(np.count_nonzero(sel)) * step
            if voiced >= 0.3:
                values.append(float(np.log2(np.median(f0[sel]))))
                weights.append(voiced)
            a = b
    if len(values) < 4:
        return 0.0, 0.0, 0.0
    v = np.asarray(values)
    w = np.asarray(weights)
    order = np.argsort(v)
    v, w = v[order], w[order]
    best = (-1.0, 0.0, 0.0, 0.0)
    for k in range(2, len(v) - 1):  # at least two chunks on each side
        w1, w2 = w[:k].sum(), w[k:].sum()
        m1, m2 = np.average(v[:k], weights=w[:k]), np.average(v[k:], weights=w[k:])
        between = w1 * w2 / (w1 + w2) ** 2 * (m2 - m1) ** 2
        if between > best[0]:
            var1 = np.average((v[:k] - m1) ** 2, weights=w[:k])
            var2 = np.average((v[k:] - m2) ** 2, weights=w[k:])
            pooled = math.sqrt((w1 * var1 + w2 * var2) / (w1 + w2))
            best = (between, 12.0 * (m2 - m1), (m2 - m1) / max(pooled, 1e-3), min(w1, w2) / (w1 + w2))
    return best[1], best[2], best[3]
