"""SpikeVoice text-to-speech: spiking FastSpeech2 with a learned aligner (pure torch)."""

from .aligner import (
    AlignmentEncoder,
    beta_binomial_log_prior,
    binarization_loss,
    forward_sum_loss,
    monotonic_alignment_search,
)
from .config import (
    AlignerConfig,
    LossConfig,
    PostnetConfig,
    PredictorConfig,
    SpikeVoiceConfig,
    VarianceConfig,
    load_tts_config,
)
from .conv_stack import ConvStack, StepReadout
from .model import SpikeVoice, SpikeVoiceOutput
from .variance import VarianceAdaptor, average_by_duration, length_regulate

__all__ = [
    "AlignerConfig",
    "AlignmentEncoder",
    "ConvStack",
    "LossConfig",
    "PostnetConfig",
    "PredictorConfig",
    "SpikeVoice",
    "SpikeVoiceConfig",
    "SpikeVoiceOutput",
    "StepReadout",
    "VarianceAdaptor",
    "VarianceConfig",
    "average_by_duration",
    "beta_binomial_log_prior",
    "binarization_loss",
    "forward_sum_loss",
    "length_regulate",
    "load_tts_config",
    "monotonic_alignment_search",
]
