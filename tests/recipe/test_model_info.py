"""model_info from the ESPnet reporter: training time (resumed runs included) and the best
validation value of the model-selection criterion."""

from __future__ import annotations

import datetime

import numpy as np
import torch

from spikespeech.recipe.model_info import best_valid, reporter_stats, training_seconds


def _reporter(epochs: dict[int, tuple[float, float]], l1: dict[int, float] | None = None) -> dict:
    # the shape ESPnet's Reporter.state_dict() saves: stats[epoch][phase][key]
    return {"epoch": max(epochs), "stats": {
        e: {"train": {"time": datetime.timedelta(seconds=t), "loss": np.float64(1.0)},
            "valid": {"time": datetime.timedelta(seconds=v),
                      **({"postnet_l1": np.float64(l1[e])} if l1 else {})}}
        for e, (t, v) in epochs.items()}}


def test_sums_train_and_valid_time_of_every_epoch(tmp_path):
    # epochs 1-2 from a first run, 3 from a resumed one: all count
    torch.save({"model": {}, "reporter": _reporter({1: (100.0, 5.0), 2: (110.5, 4.5), 3: (90.0, 5.0)})},
               tmp_path / "checkpoint.pth")
    assert training_seconds(reporter_stats(tmp_path)) == 315.0


def test_no_or_unreadable_checkpoint_gives_none(tmp_path):
    assert reporter_stats(tmp_path) is None
    (tmp_path / "checkpoint.pth").write_bytes(b"PK\x03\x04 truncated")
    assert reporter_stats(tmp_path) is None
    torch.save({"model": {}}, tmp_path / "checkpoint.pth")  # no reporter
    assert reporter_stats(tmp_path) is None


def test_best_valid_follows_the_criterion_direction(tmp_path):
    times = {1: (1.0, 1.0), 2: (1.0, 1.0), 3: (1.0, 1.0)}
    torch.save({"reporter": _reporter(times, {1: 0.6, 2: 0.45, 3: 0.5})}, tmp_path / "checkpoint.pth")
    stats = reporter_stats(tmp_path)
    assert best_valid(stats, [["valid", "postnet_l1", "min"]]) == {
        "criterion": "valid.postnet_l1", "value": 0.45, "epoch": 2}
    assert best_valid(stats, [["valid", "postnet_l1", "max"]])["epoch"] == 1
    assert best_valid(stats, [["valid", "acc", "max"]]) is None  # not recorded
    assert best_valid(stats, None) is None
