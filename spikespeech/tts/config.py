"""Configuration of the SpikeVoice TTS model (YAML ``spikespeech/conf/tts/*.yaml``).

Two variants, chosen by the fields below (no variant switch: every difference is a field):

* ``conf/tts/spikevoice.yaml`` (+ ``spikevoice_small.yaml``): SpikeVoice as published, the
  architecture of the authors' public PyTorch code (WKX933/spikevoice_huawei at commit
  10cce8e), module for module; ``spikespeech/tts/README.md`` has the per-module table.
* ``conf/tts/spikevoice_sd.yaml`` (+ ``small.yaml``): our earlier, fully spike-driven
  design (membrane shortcuts, one-module STSA, spike rates into the adaptor): our
  reconstruction from the paper's description, made before we knew the public code. The
  dataclass defaults are this variant, so configs saved before the published variant
  existed still load unchanged.

Every detail we had to choose is a named field, with a comment saying where it comes from.

Nested blocks read from YAML start from *their own* dataclass defaults: an ``encoder:``
block is an :class:`EncoderConfig` (whose stand-alone defaults are the ASR encoder's), so
the shipped YAML files spell every encoder/decoder field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..attention.config import AttentionConfig
from ..config import ConfigError, from_dict, load_yaml
from ..encoder.config import EncoderConfig
from ..neurons.config import NeuronConfig


def spikevoice_stack(layers: int) -> EncoderConfig:
    """SpikeVoice's encoder/decoder stack (``conf/encoder/spikevoice_stsa.yaml``): binary LIF
    (tau 2, threshold 1, hard detached reset), T=4, STSA, d 256, 2 heads, FFN 1024 [9, 1]."""
    return EncoderConfig(
        layers=layers, d_model=256, ffn_dim=1024, ffn_kernels=(9, 1), dropout=0.2, time_steps=4,
        output="spikes",
        neuron=NeuronConfig(type="lif", tau=2.0, v_threshold=1.0, reset="hard", detach_reset=True),
        attention=AttentionConfig(type="stsa", heads=2, temporal_causal=True),
    )


@dataclass
class PredictorConfig:
    """A spiking conv-stack variance predictor: ``layers`` x (SN → ConvBN(k) → dropout), then
    SN → Linear(channels → 1)."""

    layers: int = 2  # FastSpeech2: 2 conv layers, 256 filters, kernel 3, dropout 0.5
    channels: int = 256
    kernel: int = 3
    dropout: float = 0.5
    # False: biased convs without BN (the public SpikeVoice predictor, 10cce8e
    # modules_attn_res_1.py:270-295: its LayerNorms and dropouts are built but not applied)
    norm: bool = True


@dataclass
class VarianceConfig:
    duration: PredictorConfig = field(default_factory=PredictorConfig)
    # Guess: ESPnet's FastSpeech2/JETS recipes give the pitch predictor 5 layers of kernel 5
    # (pitch is the hardest variance to predict); this also brings our model near the ≈ 37 M
    # reported for the paper (a figure not checked against the paper's text).
    pitch: PredictorConfig = field(default_factory=lambda: PredictorConfig(layers=5, kernel=5))
    energy: PredictorConfig = field(default_factory=PredictorConfig)
    bins: int = 256  # FastSpeech2: pitch/energy quantised into 256 embedding bins
    # Guess: the inputs are z-scored, so +-4 sigma covers ~all voiced frames; values outside
    # fall into the end bins.
    pitch_range: tuple[float, float] = (-4.0, 4.0)
    energy_range: tuple[float, float] = (-4.0, 4.0)
    # The duration predictor regresses log(d + offset) (FastSpeech2/ESPnet use offset 1).
    duration_offset: float = 1.0
    # Guess: no stop-gradient from the predictors into the encoder (FastSpeech2 as published;
    # VITS-style detaching is the alternative).
    detach_input: bool = False
    ann_activation: Literal["relu", "tanh"] = "relu"  # backbone: ann only (FastSpeech2: ReLU)
    # What the energy predictor reads: the encoder output, like the other predictors, or
    # that plus the pitch embedding (FastSpeech2's order; the public SpikeVoice code, 10cce8e
    # modules_attn_res_1.py:142-153).
    energy_input: Literal["encoder", "pitch_embedded"] = "encoder"
    # "fixed": bin edges span pitch_range/energy_range. "data": they span the smallest and
    # largest token target seen in training (running min/max, saved with the model; until
    # the first batch, the fixed ranges). The public code takes min/max of the whole training
    # set from its preprocessing statistics (modules_attn_res_1.py:53-83).
    bin_range: Literal["fixed", "data"] = "fixed"


@dataclass
class PostnetConfig:
    """Residual spiking conv postnet (Tacotron 2 / FastSpeech2: 5 layers, 512 ch, kernel 5)."""

    layers: int = 5
    channels: int = 512
    kernel: int = 5
    dropout: float = 0.5
    ann_activation: Literal["relu", "tanh"] = "tanh"  # backbone: ann only (Tacotron 2: tanh)


@dataclass
class AlignerConfig:
    """Learned alignment ("One TTS Alignment To Rule Them All", RAD-TTS); training only."""

    attention_dim: int = 80  # RAD-TTS: n_att_channels = n_mel_channels
    text_kernel: int = 3
    mel_kernel: int = 3
    temperature: float = 0.0005  # RAD-TTS: logits = -temperature * ||q - k||^2
    # Beta-binomial prior "scaling factor" (RAD-TTS default 1.0); 0 disables the prior.
    prior_scaling: float = 1.0
    blank_logprob: float = -1.0  # RAD-TTS's forward-sum blank column


@dataclass
class LossConfig:
    """Loss weights. ``losses`` reports unweighted values; ``loss`` is the weighted sum."""

    mel: float = 1.0
    postnet: float = 1.0
    duration: float = 1.0
    pitch: float = 1.0
    energy: float = 1.0
    forward_sum: float = 1.0
    binarization: float = 1.0
    # Guess (RAD-TTS starts its binarisation loss at 6k iterations): soft alignments first
    # learn to be roughly right, then are pulled onto the hard (MAS) path over a linear ramp.
    binarization_start_step: int = 6000
    binarization_warmup_steps: int = 2000


@dataclass
class SpikeVoiceConfig:
    # "spiking": SpikingEncoder stacks and spiking conv stacks; "ann": the same code with
    # spikes off (ANNEncoder, ReLU/tanh conv stacks), the FastSpeech2 baseline.
    backbone: Literal["spiking", "ann"] = "spiking"
    encoder: EncoderConfig = field(default_factory=lambda: spikevoice_stack(4))  # phoneme encoder
    decoder: EncoderConfig = field(default_factory=lambda: spikevoice_stack(6))  # mel decoder
    # Guess: a padding-aware BatchNorm (learnable gain/shift) in front of every spiking stack
    # (encoder, decoder, predictors, postnet) puts its real-valued input (embeddings, spike
    # rates in [0, 1], log-mels) on the scale of the neurons' fixed threshold.
    input_norm: bool = True
    # False: the encoder's spike rates (mean over its T steps) feed the variance adaptor,
    # and the decoder starts again from T copies. True: per-step tensors (T, B, L, C) flow
    # from the encoder through the adaptor (predictors per step, averaged), length
    # regulator, decoder, mel read-out and postnet; outputs are averaged over T at the end
    # (the public SpikeVoice code, 10cce8e fastspeech2_sdsa_ende_res_st.py:71-111).
    per_step: bool = False
    variance: VarianceConfig = field(default_factory=VarianceConfig)
    postnet: PostnetConfig = field(default_factory=PostnetConfig)
    aligner: AlignerConfig = field(default_factory=AlignerConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    num_speakers: int = 0  # > 0: speaker-id embedding table, added to the encoder output
    speaker_embedding_dim: int = 0  # > 0: projection of external embeddings (x-vectors)
    normalize_speaker_embedding: bool = True  # ESPnet's FastSpeech2: F.normalize(spembs) first

    def __post_init__(self) -> None:
        v, a = self.variance, self.aligner
        checks = [
            (self.backbone in ("spiking", "ann"),
             f"backbone must be 'spiking' or 'ann' (got {self.backbone!r})"),
            (self.encoder.d_model == self.decoder.d_model,
             f"encoder.d_model {self.encoder.d_model} != decoder.d_model {self.decoder.d_model}"),
            (not self.per_step or self.backbone == "ann"
             or self.encoder.time_steps == self.decoder.time_steps,
             f"per_step needs encoder.time_steps == decoder.time_steps "
             f"(got {self.encoder.time_steps}, {self.decoder.time_steps})"),
            (v.bins >= 2, f"variance.bins must be >= 2 (got {v.bins})"),
            (v.pitch_range[0] < v.pitch_range[1],
             f"variance.pitch_range must be (lo < hi), got {v.pitch_range}"),
            (v.energy_range[0] < v.energy_range[1],
             f"variance.energy_range must be (lo < hi), got {v.energy_range}"),
            (v.duration_offset > 0, f"variance.duration_offset must be > 0 (got {v.duration_offset})"),
            (self.postnet.layers >= 0, f"postnet.layers must be >= 0 (got {self.postnet.layers})"),
            (a.attention_dim >= 1, f"aligner.attention_dim must be >= 1 (got {a.attention_dim})"),
            (a.temperature > 0, f"aligner.temperature must be > 0 (got {a.temperature})"),
            (a.prior_scaling >= 0, f"aligner.prior_scaling must be >= 0 (got {a.prior_scaling})"),
            (self.num_speakers >= 0, f"num_speakers must be >= 0 (got {self.num_speakers})"),
            (self.speaker_embedding_dim >= 0,
             f"speaker_embedding_dim must be >= 0 (got {self.speaker_embedding_dim})"),
            (self.loss.binarization_start_step >= 0 and self.loss.binarization_warmup_steps >= 0,
             "loss.binarization_start_step and binarization_warmup_steps must be >= 0"),
        ]
        for name, p in (("duration", v.duration), ("pitch", v.pitch), ("energy", v.energy),
                        ("postnet", self.postnet)):
            where = name if name == "postnet" else f"variance.{name}"
            checks += [
                (p.layers >= 1 or name == "postnet", f"{where}.layers must be >= 1 (got {p.layers})"),
                (p.channels >= 1, f"{where}.channels must be >= 1 (got {p.channels})"),
                (p.kernel >= 1 and p.kernel % 2 == 1,
                 f"{where}.kernel must be odd and >= 1 (got {p.kernel})"),
                (0.0 <= p.dropout < 1.0, f"{where}.dropout must be in [0, 1) (got {p.dropout})"),
            ]
        checks += [(k >= 1 and k % 2 == 1, f"aligner.{n} must be odd and >= 1 (got {k})")
                   for n, k in (("text_kernel", a.text_kernel), ("mel_kernel", a.mel_kernel))]
        for name, w in vars(self.loss).items():
            if not name.startswith("binarization_"):
                checks.append((w >= 0, f"loss.{name} must be >= 0 (got {w})"))
        for ok, message in checks:
            if not ok:
                raise ConfigError(f"SpikeVoiceConfig: {message}")


def load_tts_config(path: str | Path) -> SpikeVoiceConfig:
    """Read a TTS YAML: either the bare fields or under a top-level ``tts:`` key."""
    data = load_yaml(path)
    if "tts" in data:
        data = data["tts"]
    return from_dict(SpikeVoiceConfig, data, where=f"{path}")
