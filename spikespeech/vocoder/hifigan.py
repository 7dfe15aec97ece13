"""HiFi-GAN vocoder built from ESPnet's ``espnet2.gan_tts.hifigan`` classes.

:func:`build_generator` / :func:`build_discriminator` turn config mappings into ESPnet's
``HiFiGANGenerator`` and ``HiFiGANMultiScaleMultiPeriodDiscriminator`` (keys are their
constructor arguments) after checking them against the :class:`MelSpec` the vocoder is
trained on (mel bins in, ``prod(upsample_scales) == hop_length``). :class:`HiFiGANVocoder`
wraps a trained generator for synthesis, with the same call convention as
:class:`~spikespeech.vocoder.griffin_lim.GriffinLimVocoder`.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import torch

from spikespeech.config import ConfigError

from .griffin_lim import check_logmel
from .mel import MelSpec

# Generator options a vocoder trained here may set (ESPnet's HiFiGANGenerator arguments).
# global_channels (speaker conditioning) is left out: our vocoders are unconditioned.
GENERATOR_KEYS = {"in_channels", "out_channels", "channels", "kernel_size", "upsample_scales",
                  "upsample_kernel_sizes", "resblock_kernel_sizes", "resblock_dilations",
                  "use_additional_convs", "bias", "nonlinear_activation", "nonlinear_activation_params",
                  "use_weight_norm"}
DISCRIMINATOR_KEYS = {"scales", "scale_downsample_pooling", "scale_downsample_pooling_params",
                      "scale_discriminator_params", "follow_official_norm", "periods",
                      "period_discriminator_params"}


def generator_params(params: dict[str, Any] | None, mel_spec: MelSpec, where: str = "generator_params"
                     ) -> dict[str, Any]:
    """Validated HiFiGANGenerator kwargs: ``in_channels`` defaults to ``n_mels`` and must match it;
    upsampling must multiply to ``hop_length``; ``out_channels`` must be 1 (a waveform)."""
    params = dict(params or {})
    unknown = sorted(set(params) - GENERATOR_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; "
                          f"valid keys: {', '.join(sorted(GENERATOR_KEYS))}")
    params.setdefault("in_channels", mel_spec.n_mels)
    if params["in_channels"] != mel_spec.n_mels:
        raise ConfigError(f"{where}.in_channels={params['in_channels']} does not match "
                          f"n_mels={mel_spec.n_mels}")
    if params.setdefault("out_channels", 1) != 1:
        raise ConfigError(f"{where}.out_channels: must be 1 (one waveform), got {params['out_channels']}")
    scales = list(params.setdefault("upsample_scales", [8, 8, 2, 2]))  # ESPnet's default
    if math.prod(scales) != mel_spec.hop_length:
        raise ConfigError(f"{where}.upsample_scales {scales} multiply to {math.prod(scales)}, "
                          f"not hop_length={mel_spec.hop_length}")
    kernels = list(params.setdefault("upsample_kernel_sizes", [2 * s for s in scales]))
    if kernels != [2 * s for s in scales]:  # ESPnet asserts this
        raise ConfigError(f"{where}.upsample_kernel_sizes {kernels} must be twice upsample_scales {scales}")
    channels = params.get("channels", 512)
    if channels % (2 ** len(scales)):
        raise ConfigError(f"{where}.channels={channels} must be divisible by 2**{len(scales)} "
                          f"(halved per upsampling)")
    return params


def build_generator(params: dict[str, Any] | None, mel_spec: MelSpec, where: str = "generator_params"):
    """ESPnet ``HiFiGANGenerator`` from ``params`` (see :func:`generator_params`)."""
    from espnet2.gan_tts.hifigan import HiFiGANGenerator

    params = generator_params(params, mel_spec, where)
    with warnings.catch_warnings():  # torch.nn.utils.weight_norm is deprecated (still correct)
        warnings.simplefilter("ignore", FutureWarning)
        try:
            return HiFiGANGenerator(**params)
        except (TypeError, ValueError, AssertionError) as exc:
            problem = exc or type(exc).__name__
            raise ConfigError(f"{where}: cannot build HiFiGANGenerator ({problem})") from None


def build_discriminator(params: dict[str, Any] | None, where: str = "discriminator_params"):
    """ESPnet ``HiFiGANMultiScaleMultiPeriodDiscriminator`` from ``params`` (its kwargs)."""
    from espnet2.gan_tts.hifigan import HiFiGANMultiScaleMultiPeriodDiscriminator

    params = dict(params or {})
    unknown = sorted(set(params) - DISCRIMINATOR_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; "
                          f"valid keys: {', '.join(sorted(DISCRIMINATOR_KEYS))}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        try:
            return HiFiGANMultiScaleMultiPeriodDiscriminator(**params)
        except (TypeError, ValueError, AssertionError, KeyError) as exc:
            problem = exc or type(exc).__name__
            raise ConfigError(f"{where}: cannot build the discriminator ({problem})") from None


def export_generator(generator: torch.nn.Module, params: dict[str, Any], mel_spec: MelSpec
                     ) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """``(state dict, generator params)`` of ``generator`` (built from ``params``) with weight
    normalisation folded into plain weights: what ``generator.pth`` / ``config.yaml`` hold.

    A fresh copy is built and loaded (``deepcopy`` of a weight-normed module fails after a
    forward pass); ``generator`` itself is left as it is.
    """
    params = generator_params(params, mel_spec)
    copy_ = build_generator(params, mel_spec)
    copy_.load_state_dict(generator.state_dict())
    if params.get("use_weight_norm", True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            copy_.remove_weight_norm()
    state = {k: v.detach().cpu().clone() for k, v in copy_.state_dict().items()}
    return state, {**params, "use_weight_norm": False}


class HiFiGANVocoder(torch.nn.Module):
    """A trained ESPnet HiFi-GAN generator as a log-mel → waveform vocoder.

    Call with log-mel ``(frames, n_mels)`` (ESPnet ``fbank`` features of ``mel_spec``) →
    float32 waveform ``(frames * hop,)`` in ``[-1, 1]`` (the generator ends in ``tanh``);
    ``(B, frames, n_mels)`` → ``(B, frames * hop)``. Runs on the generator's device and dtype
    under ``torch.no_grad``. ``fs`` mirrors ``sample_rate`` for ESPnet's ``Text2Speech``.
    """

    def __init__(self, generator: torch.nn.Module, mel_spec: MelSpec):
        super().__init__()
        self.generator = generator.eval()
        self.mel_spec = mel_spec
        upsample = getattr(generator, "upsample_factor", mel_spec.hop_length)
        if upsample != mel_spec.hop_length:
            raise ValueError(f"HiFiGANVocoder: generator upsamples by {upsample}, "
                             f"not hop_length={mel_spec.hop_length}")

    @property
    def sample_rate(self) -> int:
        return self.mel_spec.fs

    @property
    def fs(self) -> int:
        return self.mel_spec.fs

    @property
    def hop_length(self) -> int:
        return self.mel_spec.hop_length

    def forward(self, logmel: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Log-mel ``(frames, n_mels)`` or ``(B, frames, n_mels)`` → waveform ``(..., frames * hop)``."""
        logmel = check_logmel(logmel, self.mel_spec, "HiFiGANVocoder")
        param = next(self.generator.parameters())
        single = logmel.dim() == 2
        x = (logmel[None] if single else logmel).transpose(1, 2).to(param.device, param.dtype)
        if x.shape[-1] == 0:
            return torch.zeros(x.shape[:1] + (0,), device=param.device)[0 if single else slice(None)]
        with torch.no_grad():
            wav = self.generator(x)[:, 0].float().clamp(-1.0, 1.0)  # (B, frames * hop)
        return wav[0] if single else wav

    def extra_repr(self) -> str:
        return f"fs={self.sample_rate}, hop_length={self.hop_length}, n_mels={self.mel_spec.n_mels}"
