"""Request limits of the demo (command-line options ``--max-*``, ``--queue-size``)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import SpikespeechError

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_upload_mb: float = 10.0  # MiB; gradio's max_file_size, re-checked by the callbacks
    max_text_chars: int = 500
    max_audio_seconds: float = 60.0
    queue_size: int = 16  # requests waiting beyond the one being served

    def __post_init__(self) -> None:
        for name in ("max_upload_mb", "max_text_chars", "max_audio_seconds", "queue_size"):
            if not getattr(self, name) > 0:
                raise SpikespeechError(f"{name.replace('_', '-')} must be > 0 (got {getattr(self, name)})")

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * MIB)
