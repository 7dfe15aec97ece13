"""Strict, weights-only checkpoint loading for ESPnet models.

ESPnet's ``build_model_from_file`` loads with ``strict=False`` (and ``weights_only=False``),
so a checkpoint from another config silently leaves layers at their random init. Ours
refuses: every missing or unexpected key is an error naming the file.
"""

from __future__ import annotations

from pathlib import Path

import torch
from espnet2.tasks.asr import ASRTask
from espnet2.tasks.tts import TTSTask


def load_state_dict_strict(model: torch.nn.Module, path: str | Path, device: str = "cpu") -> None:
    """Load ``path`` (a state dict) into ``model``; any key mismatch raises ValueError."""
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except FileNotFoundError:
        raise ValueError(f"{path}: model file not found") from None
    except Exception as exc:  # unpickling errors differ across torch versions
        raise ValueError(f"{path}: not a loadable weights-only checkpoint ({exc})") from None
    if isinstance(state, dict) and "module" in state and isinstance(state["module"], dict):
        state = state["module"]  # deepspeed layout
    result = model.load_state_dict(state, strict=False)
    problems = []
    if result.missing_keys:
        problems.append(f"missing keys {_preview(result.missing_keys)}")
    if result.unexpected_keys:
        problems.append(f"unexpected keys {_preview(result.unexpected_keys)}")
    if problems:
        raise ValueError(f"{path}: checkpoint does not match the model config: " + "; ".join(problems))


def _preview(keys: list[str], limit: int = 5) -> str:
    shown = ", ".join(keys[:limit])
    return f"[{shown}{', …' if len(keys) > limit else ''}] ({len(keys)} in all)"


class _StrictLoading:
    """Mixin for an ESPnet task: ``build_model_from_file`` loads weights strictly and weights-only."""

    @classmethod
    def build_model_from_file(cls, config_file=None, model_file=None, device="cpu"):
        model, args = super().build_model_from_file(config_file, None, device)
        if model_file is not None:
            load_state_dict_strict(model, model_file, "cpu" if device == "mps" else device)
        return model, args


class StrictASRTask(_StrictLoading, ASRTask):
    """``ASRTask`` whose ``build_model_from_file`` loads weights strictly and weights-only."""


class StrictTTSTask(_StrictLoading, TTSTask):
    """``TTSTask`` with strict weights-only loading and our vocoders.

    ``build_vocoder_from_file`` gives our fast torch Griffin-Lim when no vocoder file is
    named (ESPnet's default is librosa's, several times slower), and loads our HiFi-GAN
    (a ``spikespeech.bin.vocoder_train`` output dir) otherwise; either way the vocoder's
    mel analysis is checked against the TTS model's ``feats_extract``.
    """

    @classmethod
    def build_vocoder_from_file(cls, vocoder_config_file=None, vocoder_file=None, model=None,
                                device="cpu"):
        from ..vocoder import load_vocoder, mel_spec_of_model

        spec = None if vocoder_file is None else str(vocoder_file)
        return load_vocoder(spec, mel_spec_of_model(model), config=vocoder_config_file).to(device)
