"""``python -m spikespeech.bin.vocoder_train``: train a HiFi-GAN vocoder for a TTS model.

Example (LJSpeech features, CPU-sized network)::

    python -m spikespeech.bin.vocoder_train --config spikespeech/conf/vocoder/hifigan_small.yaml \\
        --train_wav_scp data/train/wav.scp --valid_wav_scp data/dev/wav.scp \\
        --output_dir exp/vocoder --max_steps 2000 [--resume true]

``--tts_config exp/tts/config.yaml`` takes the mel analysis from a trained ESPnet TTS
model (its ``feats_extract_conf``), so vocoder and acoustic model cannot disagree. Audio is
read with soundfile and resampled to the vocoder rate when a file's rate differs. A killed
run continues from its last checkpoint with ``--resume true``; the result
(``generator.pth`` + ``config.yaml`` in ``--output_dir``) is what ``spikespeech synthesize
--vocoder``, ``spikespeech pack --vocoder`` and :func:`spikespeech.vocoder.load_vocoder` take.
See :mod:`spikespeech.vocoder.training` for the loop itself.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from spikespeech.argtypes import boolean, positive_int

DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "conf" / "vocoder" / "hifigan_small.yaml"


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m spikespeech.bin.vocoder_train",
                                description="Train a HiFi-GAN vocoder (ESPnet's generator, discriminators "
                                            "and losses) on the log-mel features of a TTS model.")
    p.add_argument("--config", default=str(DEFAULT_CONFIG), help="vocoder YAML (default: hifigan_small.yaml)")
    p.add_argument("--train_wav_scp", required=True, help="Kaldi wav.scp of the training audio")
    p.add_argument("--valid_wav_scp", help="wav.scp for validation mel-L1 (optional)")
    p.add_argument("--output_dir", required=True, help="checkpoints, log, generator.pth and config.yaml")
    p.add_argument("--max_steps", type=positive_int, required=True,
                   help="total generator steps (resumed runs continue up to this count)")
    p.add_argument("--resume", type=boolean, default=False, help="continue from output_dir/checkpoint.pth")
    p.add_argument("--fs", type=positive_int, help="sample rate (overrides mel.fs of the config)")
    p.add_argument("--tts_config",
                   help="ESPnet TTS config.yaml whose feats_extract_conf sets the mel analysis")
    p.add_argument("--batch_size", type=positive_int, help="overrides train.batch_size")
    p.add_argument("--segment_frames", type=positive_int, help="overrides train.segment_frames (mel frames "
                   "per training segment)")
    p.add_argument("--device", default="auto", help="cpu, cuda, cuda:1… (default: cuda if available)")
    p.add_argument("--log_level", default="INFO", choices=["DEBUG", "INFO", "WARNING"])
    return p


def main(argv: list[str] | None = None) -> int:
    args = get_parser().parse_args(argv)
    import torch

    from spikespeech.config import ConfigError, load_yaml
    from spikespeech.vocoder import VocoderError, mel_spec_of_config
    from spikespeech.vocoder.training import TrainingDiverged, VocoderTrainConfig, train

    output_dir = Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    _setup_logging(output_dir / "train.log", args.log_level)
    try:
        config = VocoderTrainConfig.load(args.config, fs=args.fs)
        if args.tts_config:
            mel = mel_spec_of_config(load_yaml(args.tts_config), where=args.tts_config)
            if args.fs is not None and args.fs != mel.fs:
                raise ConfigError(f"--fs {args.fs} disagrees with {args.tts_config} (fs {mel.fs})")
            config.mel = mel
            config.__post_init__()  # re-check the generator against the TTS analysis
        if args.batch_size is not None:
            config.train.batch_size = args.batch_size
        if args.segment_frames is not None:
            config.train.segment_frames = args.segment_frames
        device = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
        train(config, args.train_wav_scp, output_dir, args.max_steps, valid_scp=args.valid_wav_scp,
              resume=args.resume, device=device)
    except (ConfigError, VocoderError, ValueError, TrainingDiverged) as exc:
        logging.getLogger("spikespeech.vocoder.training").error("%s", exc)
        print(f"vocoder_train: error: {exc}", file=sys.stderr)
        return 1
    return 0


def _setup_logging(log_file: Path, level: str) -> None:
    logger = logging.getLogger("spikespeech.vocoder")
    logger.setLevel(level)
    logger.propagate = False  # ESPnet's imports may configure the root logger: no duplicate lines
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S")
    for handler in list(logger.handlers):  # repeated main() calls in one process (tests)
        if getattr(handler, "_vocoder_train", False):
            logger.removeHandler(handler)
            handler.close()
    for handler in (logging.StreamHandler(sys.stderr), logging.FileHandler(log_file, encoding="utf-8")):
        handler.setFormatter(formatter)
        handler._vocoder_train = True
        logger.addHandler(handler)


if __name__ == "__main__":
    sys.exit(main())
