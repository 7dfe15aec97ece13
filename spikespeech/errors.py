"""Turning exceptions into the one-line messages users see."""

from __future__ import annotations

MAX_MESSAGE_CHARS = 200  # a pasted file or a stack dump in a message must not flood a terminal


def first_line(exc: BaseException, default: str | None = None) -> str:
    """The first line of ``exc``'s message, at most :data:`MAX_MESSAGE_CHARS` characters;
    ``default`` (else the exception's type name) when it has none."""
    lines = str(exc).strip().splitlines()
    if lines:
        return lines[0][:MAX_MESSAGE_CHARS]
    return type(exc).__name__ if default is None else default
