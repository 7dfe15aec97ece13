"""Energy scopes of a :class:`~spikespeech.tts.SpikeVoice` acoustic model (metered whole, its
module names as in :meth:`~torch.nn.Module.named_modules`); the vocoder is not part of it."""

from __future__ import annotations

from ..energy import Scope

ACOUSTIC_MODEL = "acoustic model"  # the whole: every scope below
SPIKEVOICE_SCOPES = (
    # phoneme embedding (a table look-up: no MACs), input norm, spiking encoder, speaker vector
    Scope("encoder", ("embed", "encoder_norm", "encoder", "speaker_table", "speaker_proj")),
    # duration / pitch / energy predictors and the pitch / energy bin embeddings
    Scope("variance adaptor", ("variance",)),
    # input norm, spiking mel decoder and its linear mel read-out
    Scope("decoder", ("decoder_norm", "decoder", "mel_head")),
    Scope("postnet", ("postnet",)),
)
