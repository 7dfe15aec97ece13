"""argparse value types shared by the command line, the recipe stages and the ESPnet-style entry
points (refused values exit 2 before any work)."""

from __future__ import annotations

import argparse
import math

from .speaking_rate import check_speed


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1 (got {value})")
    return value


def boolean(text: str) -> bool:
    """``true``/``false`` (also ``1``/``0``, ``yes``/``no``), as ESPnet's ``str2bool`` options."""
    lowered = text.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false (got {text})")


def positive_float(text: str) -> float:
    value = float(text)
    if not (math.isfinite(value) and value > 0):  # nan and inf: no duration or rate is infinite
        raise argparse.ArgumentTypeError(f"must be a finite number > 0 (got {text})")
    return value


def non_negative_float(text: str) -> float:
    value = float(text)
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0 (got {text})")
    return value


def unit_float(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1] (got {value})")
    return value


def speed(text: str) -> float:
    """A speaking rate the synthesizer accepts (its range; nan and inf refused)."""
    value = float(text)
    try:
        check_speed(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def sample_rate(text: str) -> int:
    """An output sample rate a player can play: 8 kHz … 192 kHz."""
    value = int(text)
    if not 8000 <= value <= 192_000:
        raise argparse.ArgumentTypeError(f"must be between 8000 and 192000 Hz (got {value})")
    return value


def speaker_name(text: str) -> str:
    """A speaker name or numeric id as spk2sid tables hold them: one word."""
    if not text or text.split() != [text]:
        raise argparse.ArgumentTypeError(f"must be one word, a speaker name or id (got {text!r})")
    return text


def port_number(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be in 1..65535 (got {value})")
    return value
