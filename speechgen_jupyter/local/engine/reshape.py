"""Move a rendered voice's pitch, pitch spread and formants with Praat's "Change gender".

For models that render a waveform directly (Piper's VITS), this is how a
clone moves toward its reference after synthesis: Praat's PSOLA resynthesis
shifts the pitch median and range and stretches the formants (the "formant
shift ratio"), at ~0.01 x real time (measured in the note). hibari does the
same before rendering, inside its own DSP, and does not need this.
"""

from __future__ import annotations

import numpy as np

from .shape import Shape

__all__ = ["reshape"]

_PITCH_FLOOR, _PITCH_CEILING = 60.0, 500.0


def reshape(samples: np.ndarray, rate: int, shape: Shape) -> np.ndarray:
    """`samples` with pitch x `shape.pitch`, spread x `shape.spread`, formants x `shape.formant`.

    `shape.speed` is not applied here (the models change their own rate
    better). An identity shape returns the samples untouched.
    """
    if shape.pitch == 1.0 and shape.spread == 1.0 and shape.formant == 1.0:
        return samples
    import parselmouth
    from parselmouth.praat import call

    from .analysis import _sound

    sound = _sound(samples, rate)
    pitch = sound.to_pitch_ac(pitch_floor=_PITCH_FLOOR, pitch_ceiling=_PITCH_CEILING)
    f0 = pitch.selected_array["frequency"]
    voiced = f0[f0 > 0]
    if voiced.size < 5:
        return samples
    median = float(np.median(voiced))
    changed = call(
        sound,
        "Change gender",
        _PITCH_FLOOR,
        _PITCH_CEILING,
        float(shape.formant),
        median * float(shape.pitch),
        float(shape.spread),
        1.0,
    )
    assert isinstance(changed, parselmouth.Sound)
    out = np.asarray(changed.values[0], dtype=np.float32)
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    return out / peak * 0.99 if peak > 0.99 else out
