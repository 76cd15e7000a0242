"""`Shape`: how far a cloned voice is moved from the built-in voice it starts from."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Shape"]


@dataclass(frozen=True)
class Shape:
    """How a voice is moved from its base: 1.0 everywhere is the base voice itself.

    `pitch` multiplies the median F0; `spread` multiplies the F0 excursions
    around it (in log frequency); `formant` stretches the spectral envelope
    along frequency (>1: smaller vocal tract, brighter); `speed` is the
    model's speaking-rate factor (>1: faster).
    """

    pitch: float = 1.0
    spread: float = 1.0
    formant: float = 1.0
    speed: float = 1.0

    @property
    def is_identity(self) -> bool:
        return self == Shape()
