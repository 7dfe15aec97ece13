"""``spikespeech pack``: bundle a trained ESPnet ASR or TTS model into one file."""

from __future__ import annotations

import argparse

HELP = "bundle a trained ASR or TTS model (config, weights, tokens, stats) into one zip"
DESCRIPTION = (
    "Pack an ESPnet training config and weights (e.g. exp/asr/config.yaml and "
    "exp/asr/valid.acc.best.pth) with the token list, normalisation statistics and BPE model "
    "they reference into a single .zip (or a new directory) that 'spikespeech transcribe "
    "--model' (--asr-config) or 'spikespeech synthesize --model' (--tts-config) loads. A TTS "
    "pack also records its text frontend language and may carry a HiFi-GAN vocoder. The pack "
    "is written atomically."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    kind = p.add_mutually_exclusive_group(required=True)
    kind.add_argument("--asr-config", help="ESPnet ASR training config.yaml")
    kind.add_argument("--tts-config", help="ESPnet TTS training config.yaml")
    p.add_argument("--model", required=True, help="weights (.pth state dict)")
    p.add_argument("--card", help="optional model card (Markdown) to include")
    p.add_argument("--language", default="en", help="TTS: text frontend language, en or zh (default en)")
    p.add_argument("--vocoder", help="TTS: HiFi-GAN dir from spikespeech.bin.vocoder_train "
                   "(default: none, synthesis uses Griffin-Lim)")
    p.add_argument("--spk2sid", help="TTS: speaker table of a multi-speaker model")
    p.add_argument("-o", "--output", required=True, help="output .zip (or new directory)")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .checks import check_output_path

    output = Path(args.output)
    check_output_path(output, directory=output.suffix != ".zip")  # before seconds of packing

    from ..inference.pack import pack_asr_model, pack_tts_model

    if args.asr_config:
        out = pack_asr_model(args.asr_config, args.model, args.output, card=args.card)
    else:
        out = pack_tts_model(args.tts_config, args.model, args.output, language=args.language,
                             card=args.card, vocoder=args.vocoder, spk2sid=args.spk2sid)
    print(out)
    return 0
