"""SpikeVoice: FastSpeech2-style non-autoregressive TTS with spiking encoder and decoder.

tokens ─ embed + sinusoid ─ norm ─ spiking phoneme encoder (T steps, spikes averaged)
       ─ (+ speaker) ─ variance adaptor (duration / pitch / energy predictors, token-level
       pitch & energy bin embeddings) ─ length regulator ─ + sinusoid ─ norm
       ─ spiking mel decoder ─ Linear read-out of the spikes ─ mel ─ + spiking postnet ─ mel_post

With ``per_step`` (SpikeVoice as published) nothing is averaged before the end: the
encoder's per-step output ``(T, B, L, C)`` goes through the adaptor (predictions averaged
over ``T``), the length regulator, the decoder, the mel read-out and the postnet per step,
and mel and postnet output are averaged over ``T`` last.

Durations come from an external aligner (``durations=``) or from the learned aligner
(:mod:`.aligner`, training only). Pitch and energy are frame-level normalised (z-scored)
values, averaged per token with the hard durations (as JETS does). If ``pitch``/``energy``
are None, their predictors still run, their losses are 0 and the embeddings use the
predictions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..encoder import SpikingEncoder, build_encoder, make_pad_mask
from ..layers import MaskedBatchNorm
from ..neurons import reset_states
from .aligner import AlignmentEncoder, binarization_loss, forward_sum_loss, monotonic_alignment_search
from .config import SpikeVoiceConfig
from .conv_stack import ConvStack, StepReadout
from .inputs import check_durations, check_frames, check_lengths, check_tokens
from .losses import masked_l1, masked_mse, total_loss
from .variance import VarianceAdaptor, average_by_duration, length_regulate


@dataclass
class SpikeVoiceOutput:
    loss: torch.Tensor  # scalar: weighted sum of ``losses``
    losses: dict[str, torch.Tensor]  # unweighted scalars, see losses.LOSS_NAMES
    mel: torch.Tensor  # (B, F, n_mels) before the postnet, 0 at padded frames
    mel_post: torch.Tensor  # (B, F, n_mels) after the postnet
    durations: torch.Tensor  # (B, L) long hard durations used (0 at padded tokens)
    soft_alignment: torch.Tensor | None  # (B, F, L) learned aligner's soft alignment, or None
    log_duration: torch.Tensor  # (B, L) predicted log(d + offset)
    pitch: torch.Tensor  # (B, L) predicted token pitch
    energy: torch.Tensor  # (B, L) predicted token energy


def sinusoid(length: int, dim: int, like: torch.Tensor) -> torch.Tensor:
    """Transformer sinusoidal positional encoding ``(length, dim)`` (sin even, cos odd)."""
    pos = torch.arange(length, device=like.device, dtype=torch.float64)[:, None]
    freq = torch.exp(torch.arange(0, dim, 2, device=like.device, dtype=torch.float64)
                     * (-math.log(10000.0) / dim))
    pe = torch.zeros(length, dim, device=like.device, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq[: dim // 2])
    return pe.to(like.dtype)


class SpikeVoice(nn.Module):
    """``SpikeVoice(vocab_size, n_mels, cfg)``; see the module docstring for the data flow."""

    def __init__(self, vocab_size: int, n_mels: int, cfg: SpikeVoiceConfig | None = None) -> None:
        super().__init__()
        if vocab_size < 1 or n_mels < 1:
            raise ValueError(f"SpikeVoice: vocab_size and n_mels must be >= 1 (got {vocab_size}, {n_mels})")
        cfg = SpikeVoiceConfig() if cfg is None else cfg
        self.config, self.vocab_size, self.n_mels = cfg, vocab_size, n_mels
        d = cfg.encoder.d_model
        spiking = cfg.backbone == "spiking"
        neuron = cfg.encoder.neuron if spiking else None
        steps = cfg.encoder.time_steps if spiking else 1

        self.embed = nn.Embedding(vocab_size, d)
        self.encoder_norm = MaskedBatchNorm(d) if cfg.input_norm else None
        self.encoder = build_encoder(cfg.encoder, cfg.backbone)
        self.speaker_table = nn.Embedding(cfg.num_speakers, d) if cfg.num_speakers else None
        self.speaker_proj = nn.Linear(cfg.speaker_embedding_dim, d) if cfg.speaker_embedding_dim else None
        self.variance = VarianceAdaptor(d, cfg.variance, neuron, steps, cfg.input_norm)
        self.decoder_norm = MaskedBatchNorm(d) if cfg.input_norm else None
        self.decoder = build_encoder(cfg.decoder, cfg.backbone)
        self.mel_head = StepReadout(d, n_mels, cfg.decoder.time_steps if spiking else 1)
        p = cfg.postnet
        self.postnet = None
        if p.layers > 0:
            widths = [n_mels] + [p.channels] * (p.layers - 1) + [n_mels]
            self.postnet = ConvStack(widths, p.kernel, p.dropout, neuron, steps,
                                     input_norm=cfg.input_norm, activation=p.ann_activation)
        self.aligner = AlignmentEncoder(d, n_mels, cfg.aligner)
        self.register_buffer("train_step", torch.zeros((), dtype=torch.long))  # binarisation schedule

    # ---- building blocks ------------------------------------------------------------------
    @staticmethod
    def _steps(stack: nn.Module, x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        """Run an encoder stack: ``(B, L, C)`` (or per step ``(T, B, L, C)``) → per-step
        output ``(T, B, L, C)`` (``T = 1`` for the ANN stack)."""
        if isinstance(stack, SpikingEncoder):
            return stack.forward_steps(x, lengths)
        return stack(x if x.dim() == 3 else x.mean(0), lengths).unsqueeze(0)

    def _encode(self, emb: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        """Token embeddings ``(B, L, C)`` → encoder spike rates ``(B, L, C)``, or with
        ``per_step`` the per-step output ``(T, B, L, C)``."""
        x = emb + sinusoid(emb.shape[1], emb.shape[2], emb)
        if self.encoder_norm is not None:
            x = self.encoder_norm(x, None if lengths is None else make_pad_mask(lengths, x.shape[1]))
        steps = self._steps(self.encoder, x, lengths)
        return steps if self.config.per_step else steps.mean(0)

    def _decode(self, frames: torch.Tensor, lengths: torch.Tensor):
        """Length-regulated ``(B, F, C)`` (or per step ``(T, B, F, C)``) → ``(mel, mel_post)``,
        each ``(B, F, n_mels)``."""
        F, C = frames.shape[-2:]
        mask = make_pad_mask(lengths, F)
        x = frames + sinusoid(F, C, frames)
        if self.decoder_norm is not None:
            x = self.decoder_norm(x, mask)
        keep = mask[..., None].to(x.dtype)
        steps = self._steps(self.decoder, x, lengths)
        if self.config.per_step:  # mel and postnet per step, averaged last
            mel = self.mel_head.linear(steps) * keep  # (T, B, F, n_mels)
            post = mel if self.postnet is None else mel + self.postnet.forward_steps(mel, lengths)
            return mel.mean(0), post.mean(0)
        mel = self.mel_head(steps) * keep
        if self.postnet is None:
            return mel, mel
        return mel, mel + self.postnet(mel, lengths)

    def _speaker(self, batch: int, speaker_ids, speaker_embeddings, like: torch.Tensor):
        """Speaker vector ``(B, 1, C)`` to add to the encoder output, or None."""
        out = None
        if speaker_ids is not None and self.speaker_table is None:
            raise ValueError("speaker_ids: given, but the model has num_speakers: 0")
        if speaker_embeddings is not None and self.speaker_proj is None:
            raise ValueError("speaker_embeddings: given, but the model has speaker_embedding_dim: 0")
        if self.speaker_table is not None:
            n = self.config.num_speakers
            if speaker_ids is None:
                raise ValueError(f"speaker_ids: required, the model has num_speakers: {n}")
            if speaker_ids.shape != (batch,) or bool((speaker_ids < 0).any() | (speaker_ids >= n).any()):
                raise ValueError(f"speaker_ids: expected shape ({batch},) with ids in [0, {n}), "
                                 f"got {speaker_ids.tolist()}")
            out = self.speaker_table(speaker_ids.long())
        if self.speaker_proj is not None:
            e = self.config.speaker_embedding_dim
            if speaker_embeddings is None or speaker_embeddings.shape != (batch, e):
                got = None if speaker_embeddings is None else tuple(speaker_embeddings.shape)
                raise ValueError(f"speaker_embeddings: required with shape ({batch}, {e}), got {got}")
            spk = speaker_embeddings.to(like.dtype)
            if self.config.normalize_speaker_embedding:
                spk = nn.functional.normalize(spk, dim=-1)
            proj = self.speaker_proj(spk)
            out = proj if out is None else out + proj
        return None if out is None else out.unsqueeze(1)

    # ---- training ---------------------------------------------------------------------------
    def forward(self, tokens, token_lengths, mels, mel_lengths, pitch=None, energy=None, durations=None,
                speaker_ids=None, speaker_embeddings=None) -> SpikeVoiceOutput:
        """``tokens (B, L)`` long, ``token_lengths (B,)``, ``mels (B, F, n_mels)``, ``mel_lengths
        (B,)``, ``pitch``/``energy (B, F)`` normalised frame values or None, ``durations
        (B, L)`` (None: learned aligner), ``speaker_ids (B,)``, ``speaker_embeddings (B, E)``."""
        tokens = check_tokens(tokens, token_lengths, self.vocab_size)
        B, L = tokens.shape
        if not isinstance(mels, torch.Tensor) or mels.dim() != 3 or mels.shape[0] != B \
                or mels.shape[2] != self.n_mels:
            got = getattr(mels, "shape", None)
            raise ValueError(f"mels: expected shape ({B}, F, {self.n_mels}), got {got}")
        Fm = mels.shape[1]
        check_lengths("mel_lengths", mel_lengths, B, Fm)
        check_frames("pitch", pitch, B, Fm)
        check_frames("energy", energy, B, Fm)
        tok_mask, mel_mask = make_pad_mask(token_lengths, L), make_pad_mask(mel_lengths, Fm)

        emb = self.embed(tokens)
        hs = self._encode(emb, token_lengths)
        speaker = self._speaker(B, speaker_ids, speaker_embeddings, hs)
        if speaker is not None:
            hs = hs + speaker * tok_mask[..., None].to(hs.dtype)

        zero = mels.new_zeros(())
        soft, fs_loss, bin_loss = None, zero, zero
        if durations is None:
            if bool((mel_lengths < token_lengths).any()):
                raise ValueError(
                    "mel_lengths: the learned aligner needs at least one frame per token (mel_lengths "
                    f"{mel_lengths.tolist()} < token_lengths {token_lengths.tolist()})"
                )
            log_prob, soft = self.aligner(emb, token_lengths, mels, mel_lengths)
            hard = monotonic_alignment_search(log_prob, token_lengths, mel_lengths)
            durations = hard.sum(1).round().long()
            blank = self.config.aligner.blank_logprob
            fs_loss = forward_sum_loss(log_prob, token_lengths, mel_lengths, blank)
            bin_loss = binarization_loss(hard, soft)
        else:
            durations = check_durations(durations, tok_mask, mel_lengths)

        has_frames = tok_mask & (durations > 0)  # tokens with frames to average over
        pitch_tgt = None if pitch is None else average_by_duration(pitch.to(hs.dtype), durations)
        energy_tgt = None if energy is None else average_by_duration(energy.to(hs.dtype), durations)
        if self.training:
            self.variance.observe(pitch_tgt, energy_tgt, has_frames)
        hs, log_d, pitch_pred, energy_pred = self.variance.adapt(hs, token_lengths, pitch_tgt, energy_tgt)
        frames, _ = length_regulate(hs, durations, Fm)
        mel, mel_post = self._decode(frames, mel_lengths)

        losses = {
            "mel_l1": masked_l1(mel, mels, mel_mask),
            "postnet_l1": masked_l1(mel_post, mels, mel_mask),
            "duration_mse": masked_mse(log_d, self.variance.log_target(durations).to(log_d.dtype), tok_mask),
            "pitch_mse": zero if pitch_tgt is None else masked_mse(pitch_pred, pitch_tgt, has_frames),
            "energy_mse": zero if energy_tgt is None else masked_mse(energy_pred, energy_tgt, has_frames),
            "forward_sum": fs_loss,
            "binarization": bin_loss,
        }
        loss = total_loss(losses, self.config.loss, int(self.train_step))
        if self.training:
            self.train_step += 1
        return SpikeVoiceOutput(loss, losses, mel, mel_post, durations, soft, log_d, pitch_pred, energy_pred)

    # ---- inference --------------------------------------------------------------------------
    @torch.no_grad()
    def infer(self, tokens: torch.Tensor, speed: float = 1.0, speaker_id: int | None = None,
              speaker_embedding: torch.Tensor | None = None, durations: torch.Tensor | None = None,
              pitch_shift: float = 0.0) -> dict[str, torch.Tensor]:
        """One utterance: ``tokens (L,)`` → ``{"mel": (F, n_mels) after the postnet,
        "mel_before": (F, n_mels), "durations": (L,) long, "pitch": (L,), "energy": (L,)}``.

        ``speed > 1`` is faster; ``durations (L,)`` force the given ones; ``pitch_shift`` is
        added to the predicted (normalised) pitch. Call ``model.eval()`` first.
        """
        if not isinstance(tokens, torch.Tensor) or tokens.dim() != 1 or tokens.numel() < 1:
            got = getattr(tokens, "shape", None)
            raise ValueError(f"tokens: expected a non-empty (L,) tensor, got {got}")
        L = tokens.numel()
        tokens = check_tokens(tokens[None], torch.tensor([L], device=tokens.device), self.vocab_size)
        ids = None if speaker_id is None else torch.tensor([int(speaker_id)], device=tokens.device)
        spk_emb = None if speaker_embedding is None else speaker_embedding.reshape(1, -1)
        emb = self.embed(tokens)
        hs = self._encode(emb, None)
        speaker = self._speaker(1, ids, spk_emb, hs)
        if speaker is not None:
            hs = hs + speaker
        hs, log_d, pitch, energy = self.variance.adapt(hs, None, None, None, pitch_shift)
        if durations is None:
            d = self.variance.durations(log_d[0], speed)
        else:
            d = durations.reshape(-1).to(tokens.device)
            if d.shape != (L,) or bool((d < 0).any()) or int(d.sum()) < 1:
                raise ValueError(f"durations: expected ({L},) values >= 0 with a sum >= 1, got {d.tolist()}")
            d = d.round().long()
        frames, lengths = length_regulate(hs, d[None])
        mel, mel_post = self._decode(frames, lengths)
        return {"mel": mel_post[0], "mel_before": mel[0], "durations": d, "pitch": pitch[0],
                "energy": energy[0]}

    # ---- utilities --------------------------------------------------------------------------
    def reset_states(self) -> None:
        reset_states(self)

    def num_parameters(self, exclude_aligner: bool = False) -> int:
        skip = {id(p) for p in self.aligner.parameters()} if exclude_aligner else set()
        return sum(p.numel() for p in self.parameters() if id(p) not in skip)
