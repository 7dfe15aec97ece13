"""``python -m spikespeech.bin.lm_train``: ESPnet's ``lm_train`` (for the recipes' optional LM).

Takes exactly the arguments of ``espnet2.bin.lm_train``. Going through us imports ESPnet
without its import-time downloads (offline machines) and writes checkpoints atomically.
"""

from __future__ import annotations

# isort: off
import spikespeech.espnet  # noqa: F401
from espnet2.bin.lm_train import get_parser, main

# isort: on
from spikespeech.espnet.checkpoints import install_atomic_torch_save

install_atomic_torch_save()

__all__ = ["get_parser", "main"]

if __name__ == "__main__":
    main()
