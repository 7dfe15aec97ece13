"""model_info's training time: summed from the ESPnet reporter, resumed runs included."""

from __future__ import annotations

import datetime

import numpy as np
import torch

from spikespeech.recipe.model_info import _training_seconds


def _reporter(epochs: dict[int, tuple[float, float]]) -> dict:
    # the shape ESPnet's Reporter.state_dict() saves: stats[epoch][phase][key]
    return {"epoch": max(epochs), "stats": {
        e: {"train": {"time": datetime.timedelta(seconds=t), "loss": np.float64(1.0)},
            "valid": {"time": datetime.timedelta(seconds=v)}}
        for e, (t, v) in epochs.items()}}


def test_sums_train_and_valid_time_of_every_epoch(tmp_path):
    # epochs 1-2 from a first run, 3 from a resumed one: all count
    torch.save({"model": {}, "reporter": _reporter({1: (100.0, 5.0), 2: (110.5, 4.5), 3: (90.0, 5.0)})},
               tmp_path / "checkpoint.pth")
    assert _training_seconds(tmp_path) == 315.0


def test_no_or_unreadable_checkpoint_gives_none(tmp_path):
    assert _training_seconds(tmp_path) is None
    (tmp_path / "checkpoint.pth").write_bytes(b"PK\x03\x04 truncated")
    assert _training_seconds(tmp_path) is None
    torch.save({"model": {}}, tmp_path / "checkpoint.pth")  # no reporter
    assert _training_seconds(tmp_path) is None
