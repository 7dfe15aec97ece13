"""``python -m spikespeech.bin.asr_train``: ESPnet's ``asr_train`` with our encoders registered.

Takes exactly the arguments of ``espnet2.bin.asr_train`` (``--config``, ``--ngpu``,
``--multiprocessing_distributed`` …). Registration happens at import of this module, so the
worker processes ESPnet spawns for multi-GPU training see ``encoder: iml_spikeformer`` too.
Checkpoints are written atomically (see :mod:`spikespeech.espnet.checkpoints`), so training
killed at any moment resumes with ``--resume true``.
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

from espnet2.bin.asr_train import get_parser, main  # noqa: E402

__all__ = ["get_parser", "main"]

if __name__ == "__main__":
    main()
