"""``python -m spikespeech.bin.tts_train``: ESPnet's ``tts_train`` with ``tts: spikevoice``.

Takes exactly the arguments of ``espnet2.bin.tts_train`` (``--config``, ``--ngpu``,
``--multiprocessing_distributed`` …). Registration happens at import of this module, so the
worker processes ESPnet spawns for multi-GPU training see our model too. Checkpoints are
written atomically, so training killed at any moment resumes with ``--resume true``.
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

from espnet2.bin.tts_train import get_parser, main  # noqa: E402

__all__ = ["get_parser", "main"]

if __name__ == "__main__":
    main()
