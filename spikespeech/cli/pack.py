"""``spikespeech pack``: bundle a trained ESPnet ASR model into one file."""

from __future__ import annotations

import argparse

HELP = "bundle a trained ASR model (config, weights, tokens, stats) into one zip"
DESCRIPTION = (
    "Pack an ESPnet ASR training config and weights (e.g. exp/asr/config.yaml and "
    "exp/asr/valid.acc.best.pth) with the token list, normalisation statistics and BPE model "
    "they reference into a single .zip (or a new directory) that 'spikespeech transcribe "
    "--model' loads. The pack is written atomically."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--asr-config", required=True, help="ESPnet training config.yaml")
    p.add_argument("--model", required=True, help="weights (.pth state dict)")
    p.add_argument("--card", help="optional model card (Markdown) to include")
    p.add_argument("-o", "--output", required=True, help="output .zip (or new directory)")


def run(args: argparse.Namespace) -> int:
    from ..espnet.packing import pack_asr_model

    out = pack_asr_model(args.asr_config, args.model, args.output, card=args.card)
    print(out)
    return 0
