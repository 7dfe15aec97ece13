"""spikespeech: speech recognition and synthesis with spiking neural networks.

``from spikespeech import Transcriber, Synthesizer`` (see :mod:`spikespeech.inference`); the
names are imported on first use, so ``import spikespeech`` stays light (no torch, no ESPnet).
"""

__version__ = "0.1.0"

_API = ("Synthesis", "Synthesizer", "Transcriber", "Transcript")
__all__ = [*_API, "__version__"]


def __getattr__(name: str):
    if name in _API:
        from . import inference

        return getattr(inference, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
