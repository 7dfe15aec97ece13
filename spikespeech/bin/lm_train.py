"""``python -m spikespeech.bin.lm_train``: ESPnet's ``lm_train`` (for the recipes' optional LM).

Takes exactly the arguments of ``espnet2.bin.lm_train``. Going through us imports ESPnet
without its import-time downloads (offline machines) and writes checkpoints atomically.
"""

from __future__ import annotations

from spikespeech.espnet import register
from spikespeech.espnet.checkpoints import install_atomic_torch_save
from spikespeech.espnet.distributed import install_process_group_release

# at import, since spawned DDP workers re-import this module; first, so that ESPnet is imported
# without its import-time downloads
register()
install_atomic_torch_save()
install_process_group_release()

from espnet2.bin.lm_train import get_parser, main  # noqa: E402

__all__ = ["get_parser", "main"]

if __name__ == "__main__":
    main()
