"""``python -m spikespeech.bin.tts_train``: ESPnet's ``tts_train`` with ``tts: spikevoice``.

Takes exactly the arguments of ``espnet2.bin.tts_train`` (``--config``, ``--ngpu``,
``--multiprocessing_distributed`` …). Registration happens at import of this module, so the
worker processes ESPnet spawns for multi-GPU training see our model too. Checkpoints are
written atomically, so training killed at any moment resumes with ``--resume true``.
"""

from __future__ import annotations

# isort: off
# first: registers our classes and imports ESPnet without its import-time downloads
import spikespeech.espnet  # noqa: F401
from espnet2.bin.tts_train import get_parser, main

# isort: on
from spikespeech.espnet.checkpoints import install_atomic_torch_save

install_atomic_torch_save()  # at import: spawned DDP workers re-import this module

__all__ = ["get_parser", "main"]

if __name__ == "__main__":
    main()
