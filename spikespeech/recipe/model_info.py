"""Describe a trained ASR or TTS experiment for RESULTS.md: ``model_info.json`` in the exp dir.

    python -m spikespeech.recipe.model_info --exp exp/asr_x --train_seconds 812 \\
        --out exp/asr_x/model_info.json

Fields: ``name`` (the exp dir's name), ``encoder`` (the config's encoder type; for TTS the
``tts`` type and its backbone), ``parameters`` and ``encoder_parameters`` (counted on the
model built from ``config.yaml``; TTS: the acoustic model without its training-only
aligner, and its phoneme encoder), ``epochs``
(the last saved epoch), ``train_seconds`` (wall time of all its training epochs, train and
validation, from the ESPnet reporter in ``checkpoint.pth``, so runs resumed with
``--continue_training`` count too; ``--train_seconds`` when there is no checkpoint),
``best_valid`` (the config's first ``best_model_criterion``, e.g. ``valid.postnet_l1``, at its
best epoch: ``{"criterion", "value", "epoch"}``, from the same reporter; absent without one).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from pathlib import Path

import torch
import yaml

from ..atomic import atomic_write_text


def describe(exp: Path, train_seconds: float | None) -> dict:
    config = exp / "config.yaml"
    if not config.is_file():
        raise ValueError(f"{config}: not found (has the experiment been trained?)")
    conf = yaml.safe_load(config.read_text()) or {}
    info = _describe_tts(config, conf) if "tts" in conf else _describe_asr(config, conf)
    stats = reporter_stats(exp)
    seconds = None if stats is None else training_seconds(stats)
    best = None if stats is None else best_valid(stats, conf.get("best_model_criterion"))
    return {"name": exp.name, **info, "epochs": _last_epoch(exp),
            "train_seconds": train_seconds if seconds is None else seconds,
            **({"best_valid": best} if best else {})}


def reporter_stats(exp: Path) -> dict | None:
    """``{epoch: {"train": {...}, "valid": {...}}}`` from ESPnet's reporter in ``checkpoint.pth``,
    or None without a readable checkpoint."""
    path = exp / "checkpoint.pth"
    if not path.is_file():
        return None
    try:
        # weights_only=False as ESPnet's own --resume loads this file: its reporter holds
        # timedeltas and numpy scalars
        return torch.load(path, map_location="cpu", weights_only=False)["reporter"]["stats"]
    except Exception:  # a truncated or foreign checkpoint: fall back to the caller's figure
        return None


def training_seconds(stats: dict) -> float | None:
    """Summed train + valid wall time of every epoch."""
    times = [epoch.get(phase, {}).get("time") for epoch in stats.values() for phase in ("train", "valid")]
    total = sum(t.total_seconds() for t in times if isinstance(t, datetime.timedelta))
    return total or None


def best_valid(stats: dict, criteria) -> dict | None:
    """The first ``best_model_criterion`` ``[phase, key, min|max]`` at its best epoch."""
    if not criteria or len(criteria[0]) != 3:
        return None
    phase, key, mode = criteria[0]
    values = {int(epoch): float(s[phase][key]) for epoch, s in stats.items()
              if isinstance(s.get(phase), dict) and isinstance(s[phase].get(key), int | float)}
    if not values:
        return None
    epoch = (min if mode == "min" else max)(values, key=values.__getitem__)
    return {"criterion": f"{phase}.{key}", "value": values[epoch], "epoch": epoch}


def _describe_asr(config: Path, conf: dict) -> dict:
    # isort: off
    from ..espnet import StrictASRTask  # first: ESPnet imports offline

    # isort: on
    model, _ = StrictASRTask.build_model_from_file(config, None, "cpu")
    return {
        "encoder": conf.get("encoder"),
        "parameters": sum(p.numel() for p in model.parameters()),
        "encoder_parameters": sum(p.numel() for p in model.encoder.parameters()),
    }


def _describe_tts(config: Path, conf: dict) -> dict:
    # isort: off
    from ..espnet import StrictTTSTask  # first: ESPnet imports offline

    # isort: on
    model, _ = StrictTTSTask.build_model_from_file(config, None, "cpu")
    acoustic = model.tts.model
    backbone = (conf.get("tts_conf") or {}).get("backbone", "spiking")
    return {
        "encoder": f"{conf['tts']} ({backbone})",
        "parameters": acoustic.num_parameters(exclude_aligner=True),
        "encoder_parameters": sum(p.numel() for p in acoustic.encoder.parameters()),
    }


def _last_epoch(exp: Path) -> int | None:
    latest = exp / "latest.pth"
    if latest.is_symlink():  # ESPnet: latest.pth -> {N}epoch.pth
        name = os.readlink(latest)
        return int(name.removesuffix("epoch.pth")) if name.endswith("epoch.pth") else None
    epochs = [int(p.name.removesuffix("epoch.pth")) for p in exp.glob("*epoch.pth")
              if p.name.removesuffix("epoch.pth").isdigit()]
    return max(epochs) if epochs else None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m spikespeech.recipe.model_info",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--exp", type=Path, required=True)
    p.add_argument("--train_seconds", type=float, default=None)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    try:
        info = describe(args.exp, args.train_seconds)
    except ValueError as exc:
        print(f"model_info: error: {exc}", file=sys.stderr)
        return 2
    atomic_write_text(args.out, json.dumps(info, indent=2) + "\n")
    print(f"model_info: {info['name']}: {info['encoder']}, {info['parameters'] / 1e6:.2f} M parameters, "
          f"{info['epochs']} epochs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
