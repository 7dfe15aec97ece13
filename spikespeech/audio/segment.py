"""Cut long recordings into segments for decoding: at pauses, and at the quietest moment
where a stretch of speech is longer than the decoder should see at once (numpy only)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SILENCE_PEAK = 1e-4  # below -80 dBFS peak: digital silence, nothing to decode

# Our guesses, named so they can be changed. Between two published ends: silero-vad's
# get_speech_timestamps splits at 100 ms of silence (30 ms pad); WeNet's CTC endpoint rule waits
# for 1.0 s of trailing blank (runtime/core/decoder/ctc_endpoint.h). A cut in a real pause costs
# the decoder little context, and shorter segments decode faster.
MIN_PAUSE_SECONDS = 0.3
SILENCE_TOP_DB = 40.0  # a frame this far below the loud frames (99th percentile power) is silence
PAD_SECONDS = 0.1  # silence kept around each segment, so word edges are never clipped


@dataclass(frozen=True)
class Span:
    """Samples ``[start, end)`` of a recording."""

    start: int
    end: int

    def __len__(self) -> int:
        return self.end - self.start


def speech_segments(samples: np.ndarray, rate: int, max_seconds: float, min_samples: int = 1,
                    min_pause_seconds: float = MIN_PAUSE_SECONDS, top_db: float = SILENCE_TOP_DB,
                    pad_seconds: float = PAD_SECONDS) -> list[Span]:
    """Spans of ``samples`` (1-D) to decode one by one, in order.

    Audio of at most ``max_seconds`` is one span (decoded whole, as ESPnet's own decoding does).
    Longer audio is cut at every pause of at least ``min_pause_seconds`` (frames ``top_db`` below
    the loud frames), the pause itself dropped but for ``pad_seconds`` on each side; a stretch of
    speech still longer than ``max_seconds`` is cut at its quietest moments
    (:func:`split_at_quiet_points`). Digital silence gives no spans. No span is shorter than
    ``min_samples`` (a short one is widened into the silence around it, if there is room)."""
    total = len(samples)
    if total == 0 or np.abs(samples).max() < SILENCE_PEAK:
        return []
    limit = max(int(max_seconds * rate), 2 * min_samples)
    if total <= limit:
        return [Span(0, total)]
    regions = _pause_separated_regions(samples, rate, min_pause_seconds, top_db)
    pad = int(pad_seconds * rate)
    spans = []
    for i, (start, end) in enumerate(regions):
        # pad into the pause, never past the middle of it
        lo = max(start - pad, (regions[i - 1][1] + start) // 2 if i else 0)
        hi = min(end + pad, (end + regions[i + 1][0]) // 2 if i + 1 < len(regions) else total)
        lo, hi = _widen(lo, hi, min_samples, total)
        offset = lo
        for piece in split_at_quiet_points(samples[lo:hi], rate, max_seconds, min_samples=min_samples):
            spans.append(Span(offset, offset + len(piece)))
            offset += len(piece)
    return spans


def _pause_separated_regions(samples: np.ndarray, rate: int, min_pause_seconds: float,
                             top_db: float) -> list[tuple[int, int]]:
    """``[start, end)`` sample ranges of sound, merged across pauses shorter than ``min_pause_seconds``."""
    import librosa

    hop = max(1, rate // 100)  # 10 ms frames
    intervals = librosa.effects.split(samples, top_db=top_db, frame_length=4 * hop, hop_length=hop,
                                      ref=_loud_frame_power)
    min_pause = int(min_pause_seconds * rate)
    regions: list[tuple[int, int]] = []
    for start, end in intervals.tolist():
        if regions and start - regions[-1][1] < min_pause:
            regions[-1] = (regions[-1][0], end)
        else:
            regions.append((start, end))
    return regions


def _loud_frame_power(power: np.ndarray) -> float:
    """Reference level for silence: the 99th percentile of the power of frames that are not
    digital silence (the loudest frame would let one click turn quiet speech into silence)."""
    sound = power[power > SILENCE_PEAK**2]
    return float(np.percentile(sound, 99)) if sound.size else 1.0


def _widen(lo: int, hi: int, min_samples: int, total: int) -> tuple[int, int]:
    """``[lo, hi)`` grown evenly to ``min_samples`` where it is shorter, inside ``[0, total)``."""
    missing = min_samples - (hi - lo)
    if missing <= 0:
        return lo, hi
    lo = max(0, lo - (missing + 1) // 2)
    return lo, min(total, max(hi, lo + min_samples))


def split_at_quiet_points(samples: np.ndarray, rate: int, max_seconds: float,
                          search_seconds: float = 2.0, min_samples: int = 1) -> list[np.ndarray]:
    """Cut ``samples`` into pieces of at most ``max_seconds``, each cut at the lowest-energy
    10 ms frame within the last ``search_seconds`` before the limit. No piece is shorter
    than ``min_samples``: a short tail joins the piece before it (which may then exceed the
    limit by less than ``min_samples``)."""
    limit = max(int(max_seconds * rate), 2 * min_samples)
    if len(samples) <= limit:
        return [samples]
    frame = max(1, rate // 100)
    pieces, start = [], 0
    while len(samples) - start > limit:
        lo = start + max(min_samples, limit - int(search_seconds * rate))
        window = samples[lo:start + limit]
        n = max(1, len(window) // frame)
        energy = np.square(window[: n * frame].reshape(n, -1)).mean(axis=1)
        # the latest of the quietest frames: flat silence ties, and longer pieces are better
        quietest = int(np.flatnonzero(energy <= energy.min() + 1e-12)[-1])
        cut = min(lo + quietest * frame + frame // 2, start + limit)
        pieces.append(samples[start:cut])
        start = cut
    tail = samples[start:]
    if len(tail) < min_samples:
        pieces[-1] = samples[start - len(pieces[-1]):]
    else:
        pieces.append(tail)
    return pieces
