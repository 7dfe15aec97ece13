"""Segmentation of long recordings (spikespeech.audio.segment): cuts in pauses, bounded
lengths, nothing lost or duplicated, digital silence skipped."""

from __future__ import annotations

import itertools

import numpy as np

from spikespeech.audio.segment import Span, speech_segments, split_at_quiet_points

RATE = 8000


def _word(seconds: float, seed: int) -> np.ndarray:
    """A voiced burst: a 200 Hz tone with noise, faded in and out."""
    t = np.arange(int(seconds * RATE)) / RATE
    rng = np.random.default_rng(seed)
    envelope = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.02)
    return (envelope * (0.3 * np.sin(2 * np.pi * 200 * t) + 0.05 * rng.standard_normal(len(t)))).astype(
        np.float32)


def _with_pauses(words: list[float], pauses: list[float], noise: float = 1e-4) -> tuple[np.ndarray, list]:
    """Words of the given lengths separated by pauses (low noise, not digital silence); the
    ``(start, end)`` sample range of each word."""
    rng = np.random.default_rng(1)
    parts, where, at = [], [], 0
    for i, seconds in enumerate(words):
        gap = (noise * rng.standard_normal(int(pauses[i] * RATE))).astype(np.float32)
        word = _word(seconds, i)
        parts += [gap, word]
        where.append((at + len(gap), at + len(gap) + len(word)))
        at += len(gap) + len(word)
    parts.append((noise * rng.standard_normal(int(pauses[-1] * RATE))).astype(np.float32))
    return np.concatenate(parts), where


def test_short_audio_is_one_span_decoded_whole():
    audio, _ = _with_pauses([0.5, 0.5], [0.3, 1.0, 0.3])
    assert speech_segments(audio, RATE, max_seconds=15.0) == [Span(0, len(audio))]


def test_long_audio_is_cut_in_every_long_pause_and_keeps_every_word_whole():
    lengths = [0.6, 1.4, 0.4, 2.0, 0.8, 1.1] * 3
    pauses = [0.3] + [0.6, 0.9, 1.5] * 6
    audio, words = _with_pauses(lengths, pauses)
    spans = speech_segments(audio, RATE, max_seconds=3.0)
    assert len(spans) == len(words)  # every pause here is >= 0.5 s
    for span, (start, end) in zip(spans, words, strict=True):
        assert span.start <= start and end <= span.end  # the word inside, edges not clipped
        # the pad and half a 40 ms analysis frame on each side, at most
        assert len(span) - (end - start) <= 2 * (int(0.1 * RATE) + RATE // 50)
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))  # in order, no overlap


def test_short_pauses_do_not_cut_and_long_speech_is_cut_at_its_quietest():
    # 0.2 s pauses (inside a sentence) are kept; the 6 s of speech exceeds 2.5 s and must be cut
    lengths = [1.0] * 6
    pauses = [0.5] + [0.2] * 5 + [0.5]
    audio, words = _with_pauses(lengths, pauses)
    spans = speech_segments(audio, RATE, max_seconds=2.5)
    assert 3 <= len(spans) <= 4
    assert all(len(s) <= 2.5 * RATE for s in spans)
    covered = np.zeros(len(audio), dtype=bool)
    for s in spans:
        covered[s.start:s.end] = True
    assert all(covered[a:b].all() for a, b in words)  # no speech dropped
    gaps = [(end, start) for (_, end), (start, _) in itertools.pairwise(words)]
    for s in spans[:-1]:  # every cut lies in one of the short pauses
        assert any(lo <= s.end <= hi for lo, hi in gaps), s


def test_digital_silence_has_no_spans_and_a_click_is_widened_to_the_minimum():
    assert speech_segments(np.zeros(60 * RATE, dtype=np.float32), RATE, max_seconds=10.0) == []
    audio = np.zeros(60 * RATE, dtype=np.float32)
    audio[30 * RATE:30 * RATE + 40] = 0.5
    spans = speech_segments(audio, RATE, max_seconds=10.0, min_samples=800)
    assert len(spans) == 1 and len(spans[0]) >= 800
    assert spans[0].start <= 30 * RATE and 30 * RATE + 40 <= spans[0].end


def test_a_loud_click_does_not_turn_quiet_speech_into_silence():
    """The silence level is relative to the 99th percentile of frame power, not the loudest frame."""
    lengths = [1.0] * 12
    audio, words = _with_pauses(lengths, [0.8] * 13)
    audio = audio * 0.01  # speech about -50 dB below the click
    audio[100:300] = 1.0  # one full-scale click
    spans = speech_segments(audio, RATE, max_seconds=5.0)
    assert sum(any(s.start <= a and b <= s.end for s in spans) for a, b in words) == len(words)


def test_split_at_quiet_points_bounds_pieces():
    rate = 1000
    x = np.ones(95 * rate, dtype=np.float32)
    x[28 * rate: 28 * rate + 10] = 0.0  # a quiet moment near the first 30 s limit
    pieces = split_at_quiet_points(x, rate, 30.0)
    assert all(len(p) <= 30 * rate for p in pieces)
    assert sum(len(p) for p in pieces) == len(x)
    assert abs(len(pieces[0]) - 28 * rate) <= 10
    assert split_at_quiet_points(x[:100], rate, 30.0)[0] is not None


def test_split_never_leaves_a_piece_below_the_minimum():
    rate = 1000
    x = np.random.default_rng(0).standard_normal(10 * rate + 30).astype(np.float32)
    pieces = split_at_quiet_points(x, rate, 1.0, min_samples=200)
    assert sum(len(p) for p in pieces) == len(x)
    assert all(len(p) >= 200 for p in pieces)
    assert all(len(p) <= 1000 + 200 for p in pieces)
    np.testing.assert_array_equal(np.concatenate(pieces), x)


def test_split_cuts_late_in_flat_silence():
    rate = 1000
    x = np.concatenate([np.ones(700), np.zeros(600), np.ones(700)]).astype(np.float32)
    pieces = split_at_quiet_points(x, rate, 1.0, search_seconds=1.0, min_samples=50)
    assert len(pieces[0]) >= 900  # not cut just after the start of the silence
