"""Same-shape ANN transformer built from an :class:`EncoderConfig` (baseline, no spikes).

Pre-LayerNorm blocks with softmax attention (as ESPnet's transformer encoder computes it:
explicit matmuls, so the energy meter counts them) and the same FFN kernels, widths and
depth as the spiking encoder; neuron and attention-type fields are ignored.
"""

from __future__ import annotations

import torch
from torch import nn

from ..layers import MatMul, TokenConv
from .config import EncoderConfig
from .spiking import PaddingMask


class ANNSelfAttention(nn.Module):
    def __init__(self, dim: int, heads: int, causal: bool, dropout: float) -> None:
        super().__init__()
        self.heads, self.d_head, self.causal = heads, dim // heads, causal
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (
            nn.Linear(dim, dim) for _ in range(4)
        )
        self.qk, self.av = MatMul(), MatMul()
        # (B, H, L, d) @ (B, H, d, L) and (B, H, L, L) @ (B, H, L, d): frame axes for the meter
        self.qk.frame_layout = ("B.L", "B..L")
        self.av.frame_layout = ("B.LL", "B.L")
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        B, L, C = x.shape

        def split(t):
            return t.view(B, L, self.heads, self.d_head).transpose(1, 2)

        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        scores = self.qk(q, k.transpose(-1, -2)) * self.d_head**-0.5
        allowed = None if mask is None else mask[:, None, None, :]
        if self.causal:
            tri = torch.ones(L, L, dtype=torch.bool, device=x.device).tril()
            allowed = tri if allowed is None else allowed & tri
        if allowed is not None:
            scores = scores.masked_fill(~allowed, float("-inf"))
        attn = self.dropout(torch.softmax(scores, dim=-1).nan_to_num(0.0))
        out = self.av(attn, v).transpose(1, 2).reshape(B, L, C)
        return self.out_proj(out)


class ANNEncoderLayer(nn.Module):
    def __init__(self, cfg: EncoderConfig) -> None:
        super().__init__()
        k1, k2 = cfg.ffn_kernels
        self.norm1 = nn.LayerNorm(cfg.d_model)
        self.attn = ANNSelfAttention(cfg.d_model, cfg.attention.heads, cfg.causal, cfg.dropout)
        self.norm2 = nn.LayerNorm(cfg.d_model)
        self.fc1 = TokenConv(cfg.d_model, cfg.ffn_dim, k1, causal=cfg.causal, bias=True)
        self.act = nn.ReLU()
        self.fc2 = TokenConv(cfg.ffn_dim, cfg.d_model, k2, causal=cfg.causal, bias=True)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None, keep) -> torch.Tensor:
        x = x + self.dropout(self.attn(self.norm1(x), mask))
        h = self.norm2(x)
        if keep is not None:  # convs must not see padded frames
            h = h * keep
        h = self.act(self.fc1(h))
        if keep is not None:
            h = h * keep
        return x + self.dropout(self.fc2(h))


class ANNEncoder(nn.Module):
    """``forward(x (B, L, C), lengths (B,)) -> (B, L, C)``, zero at padded frames."""

    time_steps = 1

    def __init__(self, cfg: EncoderConfig) -> None:
        super().__init__()
        self.config = cfg
        self.padding = PaddingMask("BL")  # activations (B, L, C)
        self.layers = nn.ModuleList(ANNEncoderLayer(cfg) for _ in range(cfg.layers))
        self.out_norm = nn.LayerNorm(cfg.d_model)

    @property
    def output_size(self) -> int:
        return self.config.d_model

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        if x.dim() != 3:
            raise ValueError(f"ANNEncoder: expected input (B, L, C), got shape {tuple(x.shape)}")
        x, mask = self.padding(x, lengths)
        keep = None if mask is None else mask[:, :, None].to(x.dtype)
        for layer in self.layers:
            x = layer(x, mask, keep)
        x = self.out_norm(x)
        return x if keep is None else x * keep
