"""The project's error base, and turning exceptions into the one-line messages users see."""

from __future__ import annotations


class SpikespeechError(ValueError):
    """Something the user gave is wrong (an input file, a config, a model, a data dir, an
    argument): the message is one line naming it. The command line prints it as such; any
    other exception is a bug and keeps its traceback. A ``ValueError``, so that callers
    catching those keep working."""

MAX_MESSAGE_CHARS = 200  # a pasted file or a stack dump in a message must not flood a terminal


def first_line(exc: BaseException, default: str | None = None) -> str:
    """The first line of ``exc``'s message, at most :data:`MAX_MESSAGE_CHARS` characters;
    ``default`` (else the exception's type name) when it has none."""
    lines = str(exc).strip().splitlines()
    if lines:
        return lines[0][:MAX_MESSAGE_CHARS]
    return type(exc).__name__ if default is None else default
