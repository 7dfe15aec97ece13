"""Learned text-to-mel alignment (training only; a small ANN).

After "One TTS Alignment To Rule Them All" (Badlani et al., 2022) / RAD-TTS: conv key
(text) and query (mel) encoders, ``-temperature * ||q - k||^2`` log-softmaxed over tokens
plus a beta-binomial prior gives a soft alignment; the forward-sum (CTC) loss trains it,
monotonic alignment search (MAS) turns it into hard durations, and a binarisation loss
pulls the soft alignment onto the hard path.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..encoder.spiking import make_pad_mask
from ..layers import TokenConv
from .config import AlignerConfig

# log-probability of masked entries: finite (no NaN gradients), exp() underflows to 0
MASKED_LOGPROB = -1e4


class _MaskedConvNet(nn.Module):
    """``TokenConv``s with ReLUs between them; padded frames are zeroed before every conv."""

    def __init__(self, widths: list[int], first_kernel: int) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            TokenConv(a, b, first_kernel if i == 0 else 1, bias=True)
            for i, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True))
        )

    def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        for i, conv in enumerate(self.convs):
            x = conv(torch.relu(x) * keep if i else x * keep)
        return x


class AlignmentEncoder(nn.Module):
    """``forward(text (B, L, C), token_lengths, mels (B, F, M), mel_lengths)`` →
    ``(log_prob (B, F, L), soft (B, F, L))``: per-frame log-probabilities over tokens (prior
    included, :data:`MASKED_LOGPROB` at padded tokens) and their softmax (0 at padding)."""

    def __init__(self, d_text: int, n_mels: int, cfg: AlignerConfig) -> None:
        super().__init__()
        self.config = cfg
        att = cfg.attention_dim
        self.key = _MaskedConvNet([d_text, 2 * d_text, att], cfg.text_kernel)
        self.query = _MaskedConvNet([n_mels, 2 * n_mels, n_mels, att], cfg.mel_kernel)

    def forward(self, text, token_lengths, mels, mel_lengths):
        tok = make_pad_mask(token_lengths, text.shape[1])  # (B, L)
        frm = make_pad_mask(mel_lengths, mels.shape[1])  # (B, F)
        text = text.masked_fill(~tok[..., None], 0.0)
        mels = mels.masked_fill(~frm[..., None], 0.0)
        k = self.key(text, tok[..., None].to(text.dtype))  # (B, L, A)
        q = self.query(mels, frm[..., None].to(mels.dtype))  # (B, F, A)
        dist = (q.square().sum(-1, keepdim=True) + k.square().sum(-1).unsqueeze(1)
                - 2.0 * q @ k.transpose(1, 2))  # (B, F, L) squared L2
        logits = (-self.config.temperature * dist).masked_fill(~tok[:, None, :], MASKED_LOGPROB)
        log_prob = logits.log_softmax(-1)
        if self.config.prior_scaling > 0:
            prior = beta_binomial_log_prior(token_lengths, mel_lengths, text.shape[1], mels.shape[1],
                                            self.config.prior_scaling)
            log_prob = log_prob + prior.to(log_prob.dtype)
        log_prob = log_prob.masked_fill(~tok[:, None, :], MASKED_LOGPROB)
        soft = log_prob.softmax(-1) * frm[..., None].to(log_prob.dtype)
        return log_prob, soft


def beta_binomial_log_prior(token_lengths: torch.Tensor, mel_lengths: torch.Tensor, max_tokens: int,
                            max_frames: int, scaling: float = 1.0) -> torch.Tensor:
    """Log beta-binomial alignment prior ``(B, F, L)`` (float64).

    Frame ``i = 1..M`` of an utterance with ``P`` tokens and ``M`` frames gets
    ``BetaBinomial(n=P-1, a=scaling*i, b=scaling*(M+1-i))`` over tokens ``k = 0..P-1``, so each
    valid row sums to 1 and its mode moves along the diagonal (larger ``scaling``: sharper).
    Entries outside ``(M, P)`` hold :data:`MASKED_LOGPROB`.
    """
    if scaling <= 0:
        raise ValueError(f"beta_binomial_log_prior: scaling must be > 0 (got {scaling})")
    f64, dev, lg = torch.float64, token_lengths.device, torch.lgamma
    n = token_lengths.to(f64).view(-1, 1, 1) - 1
    M = mel_lengths.to(f64).view(-1, 1, 1)
    k = torch.arange(max_tokens, dtype=f64, device=dev).view(1, 1, -1)
    i = torch.arange(1, max_frames + 1, dtype=f64, device=dev).view(1, -1, 1)
    valid = (k <= n) & (i <= M)
    a = scaling * i  # (1, F, 1)
    b = torch.where(i <= M, scaling * (M + 1 - i), torch.ones((), dtype=f64, device=dev))  # (B, F, 1)
    nk = (n - k).clamp_min(0)  # (B, 1, L)
    # pmf = C(n, k) B(k + a, n - k + b) / B(a, b), with a + b = scaling * (M + 1) per utterance:
    # only two lgamma terms are full size (B, F, L)
    log_choose = lg(n + 1) - lg(k + 1) - lg(nk + 1)
    per_frame = -lg(a) - lg(b)
    per_utt = lg(scaling * (M + 1)) - lg(n + scaling * (M + 1))
    log_pmf = lg(k + a) + lg(nk + b) + log_choose + per_frame + per_utt
    return log_pmf.masked_fill(~valid, MASKED_LOGPROB)


def forward_sum_loss(log_prob: torch.Tensor, token_lengths: torch.Tensor, mel_lengths: torch.Tensor,
                     blank_logprob: float = -1.0) -> torch.Tensor:
    """RAD-TTS forward-sum loss: CTC of the token sequence ``1..L`` over the frames, with a
    blank column; ``log_prob (B, F, L)`` (padded tokens masked). Mean over the batch of the
    per-utterance loss divided by its token count."""
    B, _, L = log_prob.shape
    padded = F.pad(log_prob, (1, 0), value=blank_logprob).log_softmax(-1)  # (B, F, L + 1)
    targets = torch.arange(1, L + 1, device=log_prob.device).expand(B, L)
    return F.ctc_loss(padded.transpose(0, 1), targets, mel_lengths, token_lengths, blank=0,
                      reduction="mean", zero_infinity=True)


def binarization_loss(hard: torch.Tensor, soft: torch.Tensor) -> torch.Tensor:
    """``-sum(hard * log soft) / sum(hard)``: pulls the soft alignment onto the hard path."""
    return -(hard * soft.clamp_min(1e-12).log()).sum() / hard.sum().clamp_min(1.0)


@torch.no_grad()
def monotonic_alignment_search(log_prob: torch.Tensor, token_lengths: torch.Tensor,
                               mel_lengths: torch.Tensor) -> torch.Tensor:
    """Most likely monotonic hard alignment ``(B, F, L)`` (0/1, dtype of ``log_prob``).

    Frame 0 is on token 0, the last valid frame on the last valid token, and each frame
    stays on its token or moves to the next: every frame maps to exactly one token, each
    token gets >= 1 frame and the durations ``hard.sum(1)`` add up to ``mel_lengths``.
    Viterbi over frames (a loop), vectorised over batch and tokens. Needs ``mel_lengths >=
    token_lengths``.
    """
    B, Fmax, L = log_prob.shape
    if bool((mel_lengths < token_lengths).any()) or bool((token_lengths < 1).any()):
        raise ValueError(
            f"monotonic_alignment_search: needs 1 <= token_lengths <= mel_lengths, got token_lengths "
            f"{token_lengths.tolist()} and mel_lengths {mel_lengths.tolist()}"
        )
    lp = log_prob.detach().to("cpu", torch.float64)
    tok = make_pad_mask(token_lengths.cpu(), L)
    lp = lp.masked_fill(~tok[:, None, :], float("-inf"))
    neg = torch.full((B, 1), float("-inf"), dtype=torch.float64)
    score = torch.cat([lp[:, 0, :1], neg.expand(B, L - 1)], 1)  # (B, L) best path score
    advance = torch.zeros(B, Fmax, L, dtype=torch.bool)
    for t in range(1, Fmax):
        move = torch.cat([neg, score[:, :-1]], 1)
        adv = move > score  # ties stay on the token
        advance[:, t] = adv
        score = torch.where(adv, move, score) + lp[:, t]
    hard = torch.zeros(B, Fmax, L, dtype=log_prob.dtype)
    rows = torch.arange(B)
    j = (token_lengths.cpu() - 1).clone()
    frames = mel_lengths.cpu()
    for t in range(Fmax - 1, -1, -1):
        active = t < frames
        hard[rows[active], t, j[active]] = 1.0
        j = j - (advance[rows, t, j] & active).long()
    return hard.to(log_prob.device, log_prob.dtype)
