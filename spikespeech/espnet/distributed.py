"""Release the torch.distributed process group before the interpreter shuts down.

ESPnet's trainer initialises a process group for multi-process training (``torchrun`` or
``--multiprocessing_distributed``) and never destroys it. Gloo's C++ worker threads then
meet interpreter finalisation and a rank may die with SIGABRT ("terminate called without an
active exception") after training has finished (pytorch/pytorch#190489; #179291 proposes the
same atexit release inside torch). Measured on our CPU machine with a two-rank gloo job under
torchrun that all-reduces and exits: 3 of 15 runs aborted without a release, 0 of 30 with
``destroy_process_group()`` at the end and 0 of 30 with this atexit handler. It is not the
only cause: tests/bin's two-rank torchrun training test still aborted 2 of 36 runs with it
(rank 1, as it exits). Its core dump showed why: the group had outlived the release, and a
gloo worker thread, freeing a finished all-reduce's tensors during interpreter finalization,
was killed taking the GIL inside a destructor (std::terminate). The group outlived it because
``torch.distributed.nn.functional`` binds ``group=group.WORLD`` as default arguments when it is
imported, and it is first imported by ``torch._dynamo``, which ``torch.optim`` imports lazily
when ESPnet builds the optimizer, after the group exists: ten functions then hold the group for
good. So the installer imports that module first, while no group exists (its defaults are
``None``): then 0 of 80 runs of that test aborted (before, on the same machine: 1 of 21, the
loop stopping at the first abort).
Installed by our training entry points, which are the processes that run ESPnet's trainer.
"""

from __future__ import annotations

import atexit

import torch.distributed as dist


def release_process_group() -> None:
    """Destroy the default process group if this process has one (no-op otherwise)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def install_process_group_release() -> None:
    """Run :func:`release_process_group` at normal interpreter exit (idempotent: registered once),
    and import ``torch.distributed.nn`` now so that no default argument holds the group (module
    docstring). Spawned DDP workers re-import the entry point, so they install it too."""
    if dist.is_available():
        import torch.distributed.nn  # noqa: F401  (before any group exists: see above)
    atexit.unregister(release_process_group)
    atexit.register(release_process_group)
