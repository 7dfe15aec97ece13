"""SpikeVoice as an ESPnet ``AbsTTS`` (``tts: spikevoice``).

A thin adapter: ESPnet's ``TTSTask`` builds it with ``idim`` (token-list size), ``odim``
(mel bins of ``feats_extract``), ``spks``/``spk_embed_dim`` (multi-speaker options) and the
``tts_conf`` mapping, which is the YAML of :class:`spikespeech.tts.SpikeVoiceConfig`
(strict keys). ESPnet hands in normalised log-mels and, with ``pitch_extract``/
``energy_extract`` set and ``use_token_averaged_f0/energy: false``, frame-level normalised
pitch and energy ``(B, F, 1)``; the model averages them per token with its learned
durations (as JETS does), so no external aligner is needed.
"""

from __future__ import annotations

from typing import Any

import torch
from espnet2.torch_utils.device_funcs import force_gatherable
from espnet2.tts.abs_tts import AbsTTS

from ..config import ConfigError, from_dict
from ..tts import SpikeVoice, SpikeVoiceConfig


class ESPnetSpikeVoice(AbsTTS):
    """Token ids ``(B, L)`` + normalised log-mel ``(B, F, odim)`` → loss (training);
    token ids ``(L,)`` → ``feat_gen (F, odim)`` (inference)."""

    def __init__(self, idim: int, odim: int, spks: int | None = None, langs: int | None = None,
                 spk_embed_dim: int | None = None, **tts_conf: Any) -> None:
        super().__init__()
        if langs:
            raise ConfigError("tts: spikevoice has no language embedding; remove 'langs'")
        conf = dict(tts_conf)
        # ESPnet's own multi-speaker options win over duplicates in tts_conf
        if spks:
            conf["num_speakers"] = int(spks)
        if spk_embed_dim:
            conf["speaker_embedding_dim"] = int(spk_embed_dim)
        self.config = from_dict(SpikeVoiceConfig, conf, where="tts_conf")
        self.model = SpikeVoice(idim, odim, self.config)
        # read by ESPnet's Text2Speech to decide which inputs inference needs
        self.spks = spks or None
        self.langs = None
        self.spk_embed_dim = spk_embed_dim or None

    def forward(
        self,
        text: torch.Tensor,
        text_lengths: torch.Tensor,
        feats: torch.Tensor,
        feats_lengths: torch.Tensor,
        durations: torch.Tensor | None = None,
        durations_lengths: torch.Tensor | None = None,
        pitch: torch.Tensor | None = None,
        pitch_lengths: torch.Tensor | None = None,
        energy: torch.Tensor | None = None,
        energy_lengths: torch.Tensor | None = None,
        spembs: torch.Tensor | None = None,
        sids: torch.Tensor | None = None,
        lids: torch.Tensor | None = None,
        joint_training: bool = False,
        **kwargs: Any,
    ):
        """Shapes: text ``(B, L)``, feats ``(B, F, odim)``, pitch/energy ``(B, F, 1)``,
        durations ``(B, L)``, spembs ``(B, E)``, sids ``(B, 1)``."""
        # batches are padded to their longest item, which may be shorter than the pad
        text = text[:, : int(text_lengths.max())]
        feats = feats[:, : int(feats_lengths.max())]
        out = self.model(
            text, text_lengths, feats, feats_lengths,
            pitch=_frames(pitch, feats.shape[1]), energy=_frames(energy, feats.shape[1]),
            durations=None if durations is None else durations[:, : text.shape[1]],
            speaker_ids=None if sids is None else sids.view(-1),
            speaker_embeddings=spembs,
        )
        stats = {name: value.detach() for name, value in out.losses.items()}
        stats["loss"] = out.loss.detach()
        loss, stats, weight = force_gatherable((out.loss, stats, text.shape[0]), out.loss.device)
        if joint_training:
            return loss, stats, weight, out.mel_post
        return loss, stats, weight

    def inference(
        self,
        text: torch.Tensor,
        feats: torch.Tensor | None = None,
        durations: torch.Tensor | None = None,
        spembs: torch.Tensor | None = None,
        sids: torch.Tensor | None = None,
        pitch: torch.Tensor | None = None,
        energy: torch.Tensor | None = None,
        alpha: float = 1.0,
        use_teacher_forcing: bool = False,
        **kwargs: Any,
    ) -> dict[str, torch.Tensor]:
        """``text (L,)`` → ``feat_gen (F, odim)`` normalised log-mel, ``duration (L,)``,
        token-level ``pitch``/``energy (L,)``. ``alpha`` scales durations (ESPnet's
        ``speed_control_alpha``: > 1 is slower), ``durations`` force the given ones."""
        if alpha <= 0:
            raise ValueError(f"alpha (speed control) must be > 0, got {alpha}")
        speaker = None if sids is None else int(sids.view(-1)[0])
        result = self.model.infer(
            text.view(-1), speed=1.0 / alpha, speaker_id=speaker, speaker_embedding=spembs,
            durations=durations if use_teacher_forcing else None,
        )
        return {"feat_gen": result["mel"], "duration": result["durations"],
                "pitch": result["pitch"], "energy": result["energy"]}


def _frames(values: torch.Tensor | None, frames: int) -> torch.Tensor | None:
    """ESPnet's ``(B, F', 1)`` frame features → ``(B, F)`` (F' may differ by padding)."""
    if values is None:
        return None
    values = values.squeeze(-1)[:, :frames]
    if values.shape[1] < frames:
        values = torch.nn.functional.pad(values, (0, frames - values.shape[1]))
    return values
