"""The speaking-rate range of synthesis. ``spikespeech.inference.synthesizer`` exposes it as the
API's (``Synthesizer.synthesize`` enforces it, the demo's slider uses it); it lives here, free
of heavy imports, so that the CLI refuses a bad ``--speed`` at once instead of after the seconds
that importing ESPnet takes."""

from __future__ import annotations

from .errors import SpikespeechError

# rates that still give speech: beyond them durations round to (nearly) no frames, or phones
# stretch into drones
MIN_SPEED, MAX_SPEED = 0.5, 2.0


def check_speed(speed: float) -> None:
    """Raise ``ValueError`` unless ``speed`` lies in :data:`MIN_SPEED` … :data:`MAX_SPEED`."""
    if not MIN_SPEED <= speed <= MAX_SPEED:  # also refuses nan
        raise SpikespeechError(f"speed must be between {MIN_SPEED} and {MAX_SPEED} (got {speed:g})")
