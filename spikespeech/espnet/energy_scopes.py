"""Energy scopes of an ESPnet ASR model (``ESPnetASRModel``, metered whole), and the JSON
summary the command line and the recipes write.

Module names (ours and ESPnet's transformer / conformer / e-branchformer encoders alike):
``frontend`` (STFT + fbank: no weight layer), ``encoder.embed`` (the ``Conv2dSubsampling``
input layer, or our spike-driven one), ``encoder.encoder`` (our spiking blocks) or
``encoder.encoders`` (ESPnet's), ``decoder`` (the attention decoder: every call the decoding
mode makes, autoregressive steps included), ``ctc.ctc_lo`` (the CTC head). A language model is
not part of the ASR model and is not metered. Importing this module imports nothing of ESPnet.
"""

from __future__ import annotations

from ..energy import EnergyReport, Scope, ScopedEnergyReport, ScopeEnergy, split_scopes

FRONT_END = Scope("front-end", ("frontend", "preencoder", "encoder.embed"))
ENCODER_BLOCKS = Scope("encoder blocks", ("encoder", "postencoder"))  # after the front-end: first match wins
DECODER = Scope("decoder", ("decoder",), unit="output token")
CTC_HEAD = Scope("CTC head", ("ctc",))
ASR_SCOPES = (FRONT_END, ENCODER_BLOCKS, DECODER, CTC_HEAD)
WHOLE_MODEL = "whole model"  # the scope of a meter on the whole ASR model
# what the recipes' energy.json and ``transcribe --energy`` reported before scopes: the encoder
# with its front-end (the meter sat on ``asr_model.encoder``)
ENCODER = "encoder"
ENCODER_PARTS = (FRONT_END.name, ENCODER_BLOCKS.name)


def asr_scoped_report(report: EnergyReport, output_tokens: int) -> ScopedEnergyReport:
    """The meter's report of a whole ASR model split into :data:`ASR_SCOPES`; the decoder's
    energy is also given per output token (``output_tokens``: the transcript's tokens, no <eos>)."""
    return split_scopes(report, ASR_SCOPES, units={DECODER.name: output_tokens}, whole=WHOLE_MODEL)


def encoder_part(scoped: ScopedEnergyReport) -> ScopeEnergy:
    """The front-end and encoder blocks together, as the scope :data:`ENCODER`."""
    parts = [scoped.part(name) for name in ENCODER_PARTS]
    return ScopeEnergy([x for p in parts for x in p.layers], [x for p in parts for x in p.neurons],
                       scoped.e_mac_pj, scoped.e_ac_pj, ENCODER)


def asr_energy_summary(scoped: ScopedEnergyReport, per: float = 1.0, suffix: str = "") -> dict:
    """JSON of a scoped ASR report: the encoder's totals at the top (``scope: "encoder"``, with
    ``parts``), then ``scopes`` (each with its ratio) and ``whole_model``; energies in µJ divided
    by ``per`` with key ``suffix`` (see :meth:`~spikespeech.energy.ScopeEnergy.summary`)."""
    return {**encoder_part(scoped).summary(per, suffix), "parts": list(ENCODER_PARTS),
            "scopes": scoped.scope_summaries(per, suffix),
            "whole_model": scoped.whole().summary(per, suffix)}
