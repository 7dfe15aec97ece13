"""Spiking self-attention: HD-RepSSA and the reference forms SSA, SDSA and STSA.

All take spikes ``s`` of shape ``(T, B, L, C)`` (zero at padded frames) and a padding mask
``(B, L)`` (True = valid), and return real-valued currents ``(T, B, L, C)`` for the residual
membrane stream. Every weight layer and every product between activations sees spikes:

* ``hd_repssa``: ``SN((Q K^T ⊙ M) V · scale)`` with Q, K, V = SN(RepProjection(s)) and the
  hierarchical decay mask ``M`` (IML-Spikeformer); ``decay.schedule: none`` gives RepSSA.
* ``ssa``: Spikformer's ``SN(Q K^T V · scale)`` with linear+BN projections.
* ``sdsa``: Spike-driven Transformer's ``Q ⊙ SN(sum_tokens K ⊙ V)`` (linear in L).
* ``sdsa_steps``: the same form over the ``T`` steps of each token, ``Q ⊙ SN(sum_t K ⊙ V)``:
  the temporal module of the SpikeVoice authors' public STSA (WKX933/spikevoice_huawei at
  10cce8e, Modules.py:25-36 with ``mode='t'``). The encoder block runs it as its own
  sub-layer before the token attention (``attention.temporal``).
* ``stsa``: our one-module reconstruction of SpikeVoice's STSA from the paper's description
  (the ``spikevoice_sd`` variant; the public code has two modules, see ``sdsa_steps``): a
  temporal branch attends across the ``T`` steps of each token, ``V_T = SN((Q K^T)_T V)``,
  then a spike-driven sequential branch over tokens, ``Q ⊙ SN(sum_tokens K ⊙ V_T)``. (Guess:
  the sequential branch reuses Q and K, so STSA has the same projections as the other forms.)
"""

from __future__ import annotations

import torch
from torch import nn

from ..layers import ConvBN, ElementwiseMul, MatMul
from ..neurons.config import NeuronConfig, build_neuron
from .config import AttentionConfig
from .hdm import HierarchicalDecayMask
from .qkv import QKVSpikes, fire, merge_heads, split_heads


def _product(op: nn.Module, layout_a: str, layout_b: str) -> nn.Module:
    """``op`` with the frame layouts of its two operands (read by the energy meter)."""
    op.frame_layout = (layout_a, layout_b)
    return op


class SpikingSelfAttention(nn.Module):
    """The part every variant shares: the Q/K/V spikes (:class:`QKVSpikes`: reparameterisable
    projections and their neurons; :func:`~spikespeech.layers.fold_for_inference` swaps in the
    stacked inference form) and the output projection. A variant (:data:`ATTENTIONS`, built by
    :func:`build_attention`) says how Q, K and V mix (:meth:`_mix`).

    ``out_norm=False``: the output projection is a biased linear map without BN (for blocks
    that LayerNorm the residual sum, as the public SpikeVoice code does)."""

    kind = ""  # the config name (attention.type)
    gated = False  # ends in a spike gate Q ⊙ SN(...): SDSA and its relatives

    def __init__(
        self,
        dim: int,
        cfg: AttentionConfig,
        neuron: NeuronConfig,
        layer_index: int = 0,
        num_layers: int = 1,
        causal: bool = False,
        out_norm: bool = True,
    ) -> None:
        super().__init__()
        self.heads = cfg.heads
        self.d_head = dim // cfg.heads
        self.scale = cfg.scale if cfg.scale is not None else self.d_head**-0.5
        self.causal = causal
        self.along_tokens = self._neurons_along_tokens(cfg)
        self.qkv = QKVSpikes(dim, cfg.heads, self._projection_kernel(cfg), causal, neuron,
                             self.along_tokens)
        # the gate Q ⊙ SN(...) keeps binary spikes binary, but multi-level counts multiply to
        # 0..D², so they are re-quantised to 0..D by one more neuron
        self.attn_neuron = build_neuron(neuron) if not self.gated or neuron.type == "imls" else None
        self.out_proj = ConvBN(dim, dim, 1, norm=out_norm)
        self.register_load_state_dict_pre_hook(_qkv_keys_of_older_versions)

    @staticmethod
    def _projection_kernel(cfg: AttentionConfig) -> int:
        return 0  # linear+BN projections

    @staticmethod
    def _neurons_along_tokens(cfg: AttentionConfig) -> bool:
        return False  # neurons integrate along T

    # ---- helpers -------------------------------------------------------------------------
    def _split(self, x: torch.Tensor) -> torch.Tensor:  # (T, B, L, C) -> (T, B, H, L, d)
        return split_heads(x, self.heads)

    # ---- forward -------------------------------------------------------------------------
    def forward(self, s: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``s``: ``(T, B, L, C)`` spikes; ``mask``: ``(B, L)`` bool → ``(T, B, L, C)``."""
        keep = None if mask is None else mask[None, :, :, None].to(s.dtype)
        q, k, v = self.qkv(s, mask, keep)
        return self._output(self._mix(q, k, v, mask, keep), mask, keep)

    def _output(self, mixed: torch.Tensor, mask, keep) -> torch.Tensor:
        """The mixed heads ``(T, B, H, L, d)`` → merged, fired, projected ``(T, B, L, C)``."""
        out = merge_heads(mixed)
        if self.attn_neuron is not None:
            out = self.attn_neuron(out)
        if keep is not None:
            out = out * keep
        return self.out_proj(out, mask)

    def _mix(self, q, k, v, mask, keep) -> torch.Tensor:
        """Q, K, V spikes ``(T, B, H, L, d)`` → the attention output of the same shape."""
        raise NotImplementedError


class SSA(SpikingSelfAttention):
    """Spikformer's ``SN(Q K^T V · scale)`` with linear+BN projections."""

    kind = "ssa"

    def __init__(self, dim, cfg, neuron, layer_index=0, num_layers=1, causal=False, out_norm=True):
        super().__init__(dim, cfg, neuron, layer_index, num_layers, causal, out_norm)
        self.hdm = self._decay_mask(cfg, layer_index, num_layers, causal)
        # frame_layout: where the batch (B) and frame (L) axes of each operand lie, so the
        # energy meter counts valid frames only (see spikespeech.energy.frames)
        self.qk = _product(MatMul(), "TB.L", "TB..L")  # (T, B, H, L, d) @ (T, B, H, d, L)
        self.av = _product(MatMul(), "TB.LL", "TB.L")
        if self.hdm is not None:
            self.decay_mul = _product(ElementwiseMul(count_as="mac"), "TB.LL", "TB.LL")
            self.row_scale_mul = _product(ElementwiseMul(count_as="mac"), "TB.L", "TB.L")

    @staticmethod
    def _decay_mask(cfg: AttentionConfig, layer_index: int, num_layers: int,
                    causal: bool) -> HierarchicalDecayMask | None:
        return None

    def _mix(self, q, k, v, mask, keep):
        scores = self.qk(q, k.transpose(-1, -2))  # (T, B, H, L, L) integer coincidences
        L = q.shape[-2]
        # padded keys need no masking: K (and V) spikes are zero there
        if self.hdm is None:
            if self.causal:
                scores = scores * torch.ones(L, L, device=q.device, dtype=q.dtype).tril()
            return self.av(scores, v) * self.scale
        return self._decayed(scores, v, *self.hdm.factors(L, mask))

    def _decayed(self, scores, v, decay, row_scale) -> torch.Tensor:
        out = self.av(self.decay_mul(scores, decay.unsqueeze(0)), v)
        if row_scale is None:
            return out * self.scale
        # HDM row normalisation on the (…, L, d) output, with the attention scale merged in
        return self.row_scale_mul(out, (row_scale * self.scale).unsqueeze(0))

    def step(self, s: torch.Tensor, cache: tuple[torch.Tensor, torch.Tensor] | None = None):
        """One step of causal incremental decoding: the newest token attends to itself and to
        the tokens before it, whose K and V spikes ``cache`` holds.

        ``s``: ``(T, B, W, C)`` spikes of the newest token (last) and the ``W - 1`` tokens
        before it that the causal temporal branch of the projections reads (``W`` = the rep
        kernel, 1 without it); ``cache``: ``(k, v)`` of the earlier tokens ``(T, B, H, t, d)``,
        or None at the first token. Returns ``(out (T, B, 1, C), (k, v) with the newest token
        appended)``; equal to the last position of :meth:`forward` over the whole sequence.
        """
        if not self.causal:
            raise RuntimeError(f"{type(self).__name__}.step: the attention is not causal")
        q, k, v = (x[..., -1:, :] for x in self.qkv(s, None, None))
        if cache is not None:
            k, v = torch.cat([cache[0], k], -2), torch.cat([cache[1], v], -2)
        scores = self.qk(q, k.transpose(-1, -2))  # (T, B, H, 1, t + 1): all keys are causal
        if self.hdm is None:
            mixed = self.av(scores, v) * self.scale
        else:
            mixed = self._decayed(scores, v, *self.hdm.last_row(k.shape[-2]))
        return self._output(mixed, None, None), (k, v)


class HDRepSSA(SSA):
    """IML-Spikeformer's ``SN((Q K^T ⊙ M) V · scale)``: reparameterisable projections and the
    hierarchical decay mask ``M`` (``decay.schedule: none`` gives RepSSA)."""

    kind = "hd_repssa"

    @staticmethod
    def _decay_mask(cfg, layer_index, num_layers, causal):
        if cfg.decay.schedule == "none":
            return None
        return HierarchicalDecayMask(layer_index, num_layers, cfg.heads, cfg.decay, causal)

    @staticmethod
    def _projection_kernel(cfg: AttentionConfig) -> int:
        return cfg.rep_kernel


class SDSA(SpikingSelfAttention):
    """Spike-driven Transformer's ``Q ⊙ SN(sum_tokens K ⊙ V)`` (linear in L)."""

    kind = "sdsa"
    gated = True

    def __init__(self, dim, cfg, neuron, layer_index=0, num_layers=1, causal=False, out_norm=True):
        super().__init__(dim, cfg, neuron, layer_index, num_layers, causal, out_norm)
        self._add_gate(neuron)

    def _add_gate(self, neuron: NeuronConfig) -> None:
        self.kv_mul = _product(ElementwiseMul(), "TB.L", "TB.L")
        self.q_gate = _product(ElementwiseMul(), "TB.L", "TB.L")
        self.kv_neuron = build_neuron(neuron)
        self.kv_neuron.frame_layout = "TB.L"  # (T, B, H, L or 1, d): token (prefix) sums

    def _token_sum(self, x: torch.Tensor) -> torch.Tensor:
        # sum over tokens (dim -2) of (T, B, H, L, d); prefix sums when causal
        return x.cumsum(-2) if self.causal else x.sum(-2, keepdim=True)

    def _mix(self, q, k, v, mask, keep):
        kv = self.kv_neuron(self._token_sum(self.kv_mul(k, v)))
        return self.q_gate(q, kv)


class SDSAOverSteps(SDSA):
    """The same form over the ``T`` steps of each token, ``Q ⊙ SN(sum_t K ⊙ V)``: the temporal
    module of the SpikeVoice authors' public STSA (the encoder block runs it as its own
    sub-layer before the token attention, ``attention.temporal``)."""

    kind = "sdsa_steps"

    def __init__(self, dim, cfg, neuron, layer_index=0, num_layers=1, causal=False, out_norm=True):
        super().__init__(dim, cfg, neuron, layer_index, num_layers, causal, out_norm)
        if self.along_tokens:  # as the Q/K/V neurons (QKVSpikes): padded tokens counted too
            self.kv_neuron.frame_layout = "TB"

    @staticmethod
    def _neurons_along_tokens(cfg: AttentionConfig) -> bool:
        return cfg.temporal_neuron_axis == "tokens"

    def _mix(self, q, k, v, mask, keep):  # sum over the T steps: (1, B, H, L, d)
        kv = fire(self.kv_neuron, self.kv_mul(k, v).sum(0, keepdim=True), self.along_tokens)
        return self.q_gate(q, kv)


class STSA(SDSA):
    """Our guess at SpikeVoice's STSA as one module (the ``spikevoice_sd`` variant; the authors'
    public code, WKX933/spikevoice_huawei at 10cce8e, has two: :class:`SDSAOverSteps` then a
    token attention): a temporal branch attends across the ``T`` steps of each token,
    ``V_T = SN((Q K^T)_T V)``, then a spike-driven sequential branch over tokens,
    ``Q ⊙ SN(sum_tokens K ⊙ V_T)``."""

    kind = "stsa"

    def __init__(self, dim, cfg, neuron, layer_index=0, num_layers=1, causal=False, out_norm=True):
        SpikingSelfAttention.__init__(self, dim, cfg, neuron, layer_index, num_layers, causal, out_norm)
        self.qk = _product(MatMul(), "B.L", "B.L")  # over the steps of each token:
        self.av = _product(MatMul(), "B.L", "B.L")  # (B, H, L, T, d) @ (B, H, L, d, T)
        self._add_gate(neuron)
        self.temporal_causal = cfg.temporal_causal
        self.temporal_neuron = build_neuron(neuron)

    def _mix(self, q, k, v, mask, keep):
        # temporal branch: per token and head, attention over the T steps
        qt, kt, vt = (x.permute(1, 2, 3, 0, 4) for x in (q, k, v))  # (B, H, L, T, d)
        scores = self.qk(qt, kt.transpose(-1, -2))  # (B, H, L, T, T)
        if self.temporal_causal:
            T = q.shape[0]
            scores = scores * torch.ones(T, T, device=q.device, dtype=q.dtype).tril()
        mixed = (self.av(scores, vt) * self.scale).permute(3, 0, 1, 2, 4)  # (T, B, H, L, d)
        v_t = self.temporal_neuron(merge_heads(mixed))
        v_t = self._split(v_t if keep is None else v_t * keep)
        # sequential branch: spike-driven over tokens
        kv = self.kv_neuron(self._token_sum(self.kv_mul(k, v_t)))
        return self.q_gate(q, kv)


# attention.type -> its class
ATTENTIONS: dict[str, type[SpikingSelfAttention]] = {
    cls.kind: cls for cls in (HDRepSSA, SSA, SDSA, SDSAOverSteps, STSA)
}
ATTENTION_TYPES = tuple(ATTENTIONS)


def build_attention(dim: int, cfg: AttentionConfig, neuron: NeuronConfig, layer_index: int = 0,
                    num_layers: int = 1, causal: bool = False,
                    out_norm: bool = True) -> SpikingSelfAttention:
    """The attention variant ``cfg.type`` names (:data:`ATTENTIONS`)."""
    try:
        cls = ATTENTIONS[cfg.type]
    except KeyError:
        raise ValueError(f"attention.type: unknown {cfg.type!r}; "
                         f"choose {', '.join(ATTENTION_TYPES)}") from None
    return cls(dim, cfg, neuron, layer_index, num_layers, causal, out_norm)


_QKV_PARTS = ("q_proj.", "k_proj.", "v_proj.", "q_neuron.", "k_neuron.", "v_neuron.")


def _qkv_keys_of_older_versions(module, state_dict, prefix, *args) -> None:
    """Load state dicts saved before the Q/K/V spikes became the ``qkv`` submodule (the shipped
    packs): ``<prefix>q_proj.…`` → ``<prefix>qkv.q_proj.…`` and so on."""
    for key in [k for k in state_dict if k.startswith(prefix)]:
        if key[len(prefix):].startswith(_QKV_PARTS):
            state_dict[prefix + "qkv." + key[len(prefix):]] = state_dict.pop(key)
