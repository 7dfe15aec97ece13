"""Shared fixtures for the spikespeech test-suite (tiny shapes, CPU only)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import torch

# make ``from _helpers import ...`` work under any pytest import mode
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)


def _register_espnet() -> None:
    """ESPnet imported offline with our classes in its registries, before any test module (or
    the plugin below) imports it: what the entry points do with ``spikespeech.espnet.register()``."""
    try:
        import espnet2  # noqa: F401
    except ImportError:  # the tests that need ESPnet skip themselves
        return
    from spikespeech.espnet import register

    register()


_register_espnet()
# fixtures shared by several modules: the tiny ASR/TTS packs (exp_dir, packed, packed_tiny_model)
pytest_plugins = ["_tiny_packs"]

# The tensors here are tiny: intra-op threads only add overhead, and with OpenMP spin-waiting
# they slow the suite down by an order of magnitude when another process shares the cores.
torch.set_num_threads(1)


@pytest.fixture(autouse=True, scope="session")
def _pack_cache(tmp_path_factory):
    """Opened packs are cached in a temp dir (subprocesses inherit it), never the home cache."""
    saved = os.environ.get("SPIKESPEECH_CACHE_DIR")
    os.environ["SPIKESPEECH_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if saved is None:
        os.environ.pop("SPIKESPEECH_CACHE_DIR", None)
    else:
        os.environ["SPIKESPEECH_CACHE_DIR"] = saved


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    yield
