"""Our training entry points destroy the process group ESPnet's trainer leaves behind, before
interpreter shutdown (the flaky SIGABRT of a torchrun rank at exit)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import torch.distributed as dist

from spikespeech.espnet.distributed import release_process_group


def test_release_destroys_an_initialised_group_and_is_a_no_op_without_one(tmp_path):
    release_process_group()  # none yet: nothing to do, no error
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        assert dist.is_initialized()
        release_process_group()
        assert not dist.is_initialized()
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


@pytest.mark.parametrize("entry_point", ["asr_train", "tts_train", "lm_train"])
def test_importing_a_training_entry_point_releases_the_group_at_exit(entry_point, tmp_path):
    # atexit runs handlers last-registered-first: one registered before the import runs after
    # the entry point's and sees whether the group is still there
    script = textwrap.dedent(f"""
        import atexit
        import torch.distributed as dist
        atexit.register(lambda: print("initialised at exit:", dist.is_initialized()))
        import spikespeech.bin.{entry_point}
        dist.init_process_group("gloo", init_method="file://{tmp_path / 'store'}", rank=0, world_size=1)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "initialised at exit: False" in out.stdout


def test_the_group_is_freed_at_exit_even_when_the_optimizer_is_built_after_it(tmp_path):
    # ESPnet builds the optimizer after initialising the group; torch.optim then imports
    # torch._dynamo and with it torch.distributed.nn.functional, whose defaults would hold the
    # group: released but never freed, its gloo threads would still run at finalization
    script = textwrap.dedent(f"""
        import atexit, os
        import torch, torch.distributed as dist
        threads = lambda: len(os.listdir("/proc/self/task"))
        atexit.register(lambda: print("threads at exit:", threads(), "before the group:", baseline))
        import spikespeech.bin.asr_train
        baseline = threads()
        dist.init_process_group("gloo", init_method="file://{tmp_path / 'store'}", rank=0, world_size=1)
        assert threads() > baseline  # gloo's worker threads
        torch.optim.Adam([torch.nn.Parameter(torch.zeros(2))])
        import torch.distributed.nn.functional as F
        held = any(isinstance(d, dist.ProcessGroup) for d in F.all_reduce.__defaults__)
        print("defaults hold a group:", held)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "defaults hold a group: False" in out.stdout
    counts = out.stdout.split("threads at exit:")[1].split("before the group:")
    assert int(counts[0]) == int(counts[1]), out.stdout
