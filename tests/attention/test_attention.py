"""Hierarchical decay mask, reparameterisable projections and spiking self-attention."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from _helpers import (
    folded_keep_dtype,
    is_spike_tensor,
    random_spikes,
    randomize_bn_affine,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from spikespeech.attention import (
    ATTENTION_TYPES,
    AttentionConfig,
    DecayConfig,
    FoldedProjection,
    HierarchicalDecayMask,
    QKVSpikes,
    RepProjection,
    StackedQKVSpikes,
    build_attention,
    decay_exponents,
)
from spikespeech.layers import MatMul, fold_for_inference
from spikespeech.neurons.config import NeuronConfig

DT = torch.float64


# ----------------------------------------------------------------------------------------
# decay exponents
# ----------------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(
    num_layers=st.integers(2, 8),
    heads=st.integers(1, 8),
    lo=st.floats(0.5, 5.0),
    extra=st.floats(0.1, 10.0),
    spread=st.floats(0.0, 4.0),
)
def test_layerwise_exponents_rise_with_depth_and_stay_in_range(num_layers, heads, lo, extra,
                                                               spread):
    # (with head_spread >= 2 * range width, clipping can pin every head to an edge, and the
    # layer means stop rising; the schedule is meant for spreads narrower than the range)
    hi = lo + spread + extra
    cfg = DecayConfig(schedule="layerwise", exponent_range=(lo, hi), head_spread=spread)
    exps = [decay_exponents(i, num_layers, heads, cfg) for i in range(num_layers)]
    for e in exps:
        assert e.shape == (heads,)
        assert bool((e >= lo).all()) and bool((e <= hi).all())
    means = [e.mean().item() for e in exps]
    for a, b in zip(means[:-1], means[1:], strict=True):
        assert b > a
    # first layer is centred at the low end, last at the high end (before clipping)
    assert exps[0].min().item() == pytest.approx(lo)
    assert exps[-1].max().item() == pytest.approx(hi)


def test_layerwise_heads_spread_by_head_spread_when_unclipped():
    cfg = DecayConfig(schedule="layerwise", exponent_range=(1.0, 21.0), head_spread=3.0)
    for layer in range(5):
        e = decay_exponents(layer, 5, 4, cfg)
        centre = 1.0 + 20.0 * layer / 4  # lerp(e_min, e_max, l / (N - 1))
        # heads evenly spaced over [centre - spread/2, centre + spread/2]
        expected = [centre - 1.5, centre - 0.5, centre + 0.5, centre + 1.5]
        if layer in (1, 2, 3):  # away from the clipping edges
            assert e.tolist() == pytest.approx(expected, abs=1e-5)
            assert (e.max() - e.min()).item() == pytest.approx(3.0, abs=1e-5)
        assert len(set(e.tolist())) >= 2  # heads differ


def test_layerwise_clipping_at_edges():
    cfg = DecayConfig(schedule="layerwise", exponent_range=(2.0, 8.0), head_spread=2.0)
    first = decay_exponents(0, 4, 4, cfg)  # centre 2: raw [1, 5/3, 7/3, 3]
    last = decay_exponents(3, 4, 4, cfg)  # centre 8: raw [7, 23/3, 25/3, 9]
    assert first.tolist() == pytest.approx([2.0, 2.0, 7 / 3, 3.0], abs=1e-6)
    assert last.tolist() == pytest.approx([7.0, 23 / 3, 8.0, 8.0], abs=1e-6)


def test_single_layer_and_single_head():
    cfg = DecayConfig(schedule="layerwise", exponent_range=(2.0, 8.0), head_spread=2.0)
    # one layer sits at the middle of the range; one head sits at the layer centre
    assert decay_exponents(0, 1, 1, cfg).tolist() == pytest.approx([5.0])
    assert decay_exponents(2, 3, 1, cfg).tolist() == pytest.approx([8.0])


def test_uniform_schedule_is_identical_for_all_layers():
    cfg = DecayConfig(schedule="uniform", exponent_range=(2.0, 8.0), head_spread=2.0)
    ref = decay_exponents(0, 6, 4, cfg)
    for layer in range(6):
        assert torch.equal(decay_exponents(layer, 6, 4, cfg), ref)
    # RetNet-style: heads spread evenly over the whole range
    assert ref.tolist() == pytest.approx([2.0, 4.0, 6.0, 8.0], abs=1e-6)


# ----------------------------------------------------------------------------------------
# HierarchicalDecayMask
# ----------------------------------------------------------------------------------------
def _hdm(normalize="none", causal=False, heads=3, layer=1, layers=3):
    cfg = DecayConfig(schedule="layerwise", exponent_range=(1.0, 4.0), head_spread=1.5,
                      normalize=normalize)
    return HierarchicalDecayMask(layer, layers, heads, cfg, causal).double()


def test_hdm_unnormalised_is_gamma_power_distance():
    hdm = _hdm("none")
    L = 9
    m = hdm(L)
    assert m.shape == (1, 3, L, L)
    exps = hdm.exponent.tolist()
    for h, e in enumerate(exps):
        gamma = 1.0 - 2.0 ** (-e)
        for i in range(L):
            for j in range(L):
                assert m[0, h, i, j].item() == pytest.approx(gamma ** abs(i - j), rel=1e-12)
    # heads have different decays
    assert len({round(g, 12) for g in hdm.gamma.tolist()}) == 3


def test_hdm_causal_zeroes_future_keys():
    full = _hdm("none")(7)
    causal = _hdm("none", causal=True)(7)
    i, j = torch.meshgrid(torch.arange(7), torch.arange(7), indexing="ij")
    assert bool((causal[..., j > i] == 0).all())
    assert torch.equal(causal[..., j <= i], full[..., j <= i])


def test_hdm_key_mask_zeroes_padded_keys():
    lengths = torch.tensor([6, 3, 1])
    key_mask = torch.arange(6)[None, :] < lengths[:, None]
    m = _hdm("none")(6, key_mask)
    full = _hdm("none")(6)
    assert m.shape == (3, 3, 6, 6)
    for b, n in enumerate(lengths.tolist()):
        assert bool((m[b, :, :, n:] == 0).all())
        assert torch.equal(m[b, :, :, :n], full[0, :, :, :n])


@pytest.mark.parametrize("causal", [False, True])
def test_hdm_rowsum_rows_sum_to_one(causal):
    key_mask = torch.tensor([[True] * 8, [True] * 5 + [False] * 3])
    raw = _hdm("none", causal)(8, key_mask)
    m = _hdm("rowsum", causal)(8, key_mask)
    assert torch.allclose(m.sum(-1), torch.ones_like(m.sum(-1)), atol=1e-12)
    assert torch.allclose(m, raw / raw.sum(-1, keepdim=True), atol=1e-14)


@pytest.mark.parametrize("causal", [False, True])
def test_hdm_sqrt_rowsum_identity(causal):
    # M_n = M / sqrt(S) with S = sum_j M  =>  sum_j M_n = sqrt(S), i.e. (sum_j M_n)^2 == S
    # and M_n * sum_j M_n == M.
    key_mask = torch.tensor([[True] * 8, [True] * 5 + [False] * 3])
    raw = _hdm("none", causal)(8, key_mask)
    m = _hdm("sqrt_rowsum", causal)(8, key_mask)
    s_raw = raw.sum(-1)
    assert torch.allclose(m.sum(-1) ** 2, s_raw, rtol=1e-12)
    assert torch.allclose(m * m.sum(-1, keepdim=True), raw, rtol=1e-12, atol=1e-15)
    # the normalised rows are not stochastic (that would be "rowsum")
    assert not torch.allclose(m.sum(-1), torch.ones_like(s_raw))


def test_hdm_fully_padded_row_is_finite():
    key_mask = torch.tensor([[False] * 5])
    for norm in ("none", "rowsum", "sqrt_rowsum"):
        m = _hdm(norm)(5, key_mask)
        assert torch.isfinite(m).all() and bool((m == 0).all())


def test_hdm_learnable_exponent_gets_gradient():
    cfg = DecayConfig(learnable=True)
    hdm = HierarchicalDecayMask(0, 2, 2, cfg)
    assert "exponent" in dict(hdm.named_parameters())
    hdm(5).sum().backward()
    assert hdm.exponent.grad is not None and bool((hdm.exponent.grad != 0).all())


@pytest.mark.parametrize("normalize", ["none", "sqrt_rowsum"])
def test_hdm_learnt_exponent_pushed_to_zero_or_below_stays_finite(normalize):
    cfg = DecayConfig(learnable=True, normalize=normalize)
    attn = build_attention(16, AttentionConfig(heads=4, decay=cfg), NEURONS["imls"][0]).double()
    with torch.no_grad():  # as an optimiser step could leave them: gamma = 1 - 2**-e <= 0
        attn.hdm.exponent.copy_(torch.tensor([-3.0, -1e-4, 0.0, 5.0]))
    assert bool((attn.hdm.gamma > 0).all()) and bool((attn.hdm.gamma < 1).all())
    s = random_spikes((1, 2, 6, 16), 4, torch.Generator().manual_seed(0))
    out = attn(s, torch.tensor([[True] * 6, [True] * 4 + [False] * 2]))
    assert torch.isfinite(out).all()
    out.square().sum().backward()
    assert torch.isfinite(attn.hdm.exponent.grad).all()
    assert attn.hdm.exponent.grad[3] != 0  # heads within the bound keep learning


def test_hdm_exponents_within_the_bound_are_used_as_stored():
    hdm = _hdm("none")
    assert hdm.gamma.tolist() == pytest.approx((1 - 2.0 ** -hdm.exponent).tolist(), rel=1e-15)


# ----------------------------------------------------------------------------------------
# RepProjection
# ----------------------------------------------------------------------------------------
def _train_batchnorm(module, make_input, steps=3):
    module.train()
    with torch.no_grad():
        for _ in range(steps):
            module(*make_input())


def _apply_conv1d(conv, s, kernel, causal):
    """Apply a ``(N, C, L)`` Conv1d to ``(T, B, L, C)``; left-pad by ``k - 1`` when causal."""
    T, B, L, C = s.shape
    y = s.reshape(T * B, L, C).transpose(1, 2)
    if causal:
        y = F.pad(y, (max(kernel, 1) - 1, 0))
    return conv(y).transpose(1, 2).reshape(T, B, L, C)


@pytest.mark.parametrize("kernel", [0, 3, 5])
@pytest.mark.parametrize("causal", [False, True])
def test_rep_projection_folds_and_becomes_one_conv1d(kernel, causal):
    C, L = 8, 11
    g = torch.Generator().manual_seed(kernel + 10 * causal)
    proj = RepProjection(C, kernel, causal).double()
    mask = torch.arange(L)[None, :] < torch.tensor([L, 7])[:, None]

    def make_input():
        return (random_spikes((2, 2, L, C), 3, g) * mask[None, :, :, None], mask)

    _train_batchnorm(proj, make_input)
    randomize_bn_affine(proj, seed=kernel)
    assert all(bn.num_batches_tracked > 0 for bn in proj.modules()
               if isinstance(bn, torch.nn.BatchNorm1d))
    proj.eval()
    s = random_spikes((2, 3, L, C), 3, g)
    with torch.no_grad():
        before = proj(s)
        folded = folded_keep_dtype(proj)
        assert isinstance(folded, FoldedProjection)
        after = folded(s)
        again = folded_keep_dtype(folded)(s)  # folding a folded form changes nothing
        conv = folded.as_conv1d()
        via_conv = _apply_conv1d(conv, s, kernel, causal)
        assert torch.equal(proj(s), before)  # the training form is untouched
    assert torch.allclose(before, after, atol=1e-5)
    assert torch.equal(after, again)
    assert conv.weight.shape == (C, C, max(kernel, 1))
    assert torch.allclose(before, via_conv, atol=1e-5)
    # the temporal branch matters (otherwise the test of its folding would be vacuous)
    if kernel:
        shifted = s.clone()
        shifted[:, :, 0] = 0
        with torch.no_grad():
            changed = folded(shifted)
        # non-causal: frame 1 sees frame 0; causal: frame 1 sees frame 0 too (left context)
        assert not torch.allclose(changed[:, :, 1], after[:, :, 1])


def test_rep_projection_causal_ignores_future_frames():
    proj = RepProjection(6, 3, causal=True).double().eval()
    randomize_bn_affine(proj)
    s = random_spikes((1, 2, 9, 6), 2)
    s2 = s.clone()
    s2[:, :, 5:] = random_spikes((1, 2, 4, 6), 2)
    with torch.no_grad():
        assert torch.equal(proj(s)[:, :, :5], proj(s2)[:, :, :5])


@pytest.mark.parametrize("kernel", [0, 3])
def test_folding_keeps_dtype(kernel):
    """Folding must keep the module's dtype (a float64 model stays float64)."""
    proj = RepProjection(4, kernel).double().eval()
    s = random_spikes((1, 2, 5, 4), 2)
    with torch.no_grad():
        before = proj(s)
        folded = proj.folded()
        dtypes = {p.dtype for p in folded.parameters()}
        assert dtypes == {torch.float64}, dtypes
        assert folded.as_conv1d().weight.dtype == torch.float64
        assert torch.allclose(folded(s), before, atol=1e-12)


# ----------------------------------------------------------------------------------------
# SpikingSelfAttention
# ----------------------------------------------------------------------------------------
NEURONS = {
    "imls": (NeuronConfig(type="imls", levels=4), 1, 4),  # config, T, max spike count
    # v_threshold 0.5 keeps the untrained binary attention active (not all-zero spikes)
    "lif": (NeuronConfig(type="lif", v_threshold=0.5), 4, 1),
}


def _attention(kind, neuron, causal=False, dim=16, heads=2):
    cfg = AttentionConfig(type=kind, heads=heads, rep_kernel=3)
    ncfg = NEURONS[neuron][0]
    return build_attention(dim, cfg, ncfg, layer_index=1, num_layers=3, causal=causal).double()


def _prepared_attention(kind, neuron, causal=False, L=10):
    """Attention with trained BN statistics and random affine params, in eval mode."""
    attn = _attention(kind, neuron, causal)
    _, T, D = NEURONS[neuron]
    g = torch.Generator().manual_seed(1)
    mask = torch.arange(L)[None, :] < torch.tensor([L, L - 3])[:, None]

    def make_input():
        return (random_spikes((T, 2, L, 16), D, g) * mask[None, :, :, None], mask)

    _train_batchnorm(attn, make_input)
    randomize_bn_affine(attn, seed=2)
    return attn.eval()


@pytest.mark.parametrize("kind", ATTENTION_TYPES)
@pytest.mark.parametrize("neuron", ["imls", "lif"])
def test_attention_shape_and_inference_form(kind, neuron):
    _, T, D = NEURONS[neuron]
    L = 10
    attn = _prepared_attention(kind, neuron, L=L)
    s = random_spikes((T, 3, L, 16), D, torch.Generator().manual_seed(5))
    mask = torch.arange(L)[None, :] < torch.tensor([L, 6, 8])[:, None]
    with torch.no_grad():
        out = attn(s * mask[None, :, :, None], mask)
        out_nomask = attn(s)
        folded = folded_keep_dtype(attn)
        assert isinstance(folded.qkv, StackedQKVSpikes)  # one projection and neuron call
        assert isinstance(attn.qkv, QKVSpikes)  # the trained model is untouched
        out_rep = folded(s * mask[None, :, :, None], mask)
        out_rep_nomask = folded(s)
    assert out.shape == (T, 3, L, 16)
    assert torch.isfinite(out).all()
    # the attention path carries signal: outputs vary across tokens (BN alone would not)
    assert out_nomask.std(dim=2).max() > 1e-3
    assert torch.allclose(out, out_rep, atol=1e-5)
    assert torch.allclose(out_nomask, out_rep_nomask, atol=1e-5)


@pytest.mark.parametrize("kind", ATTENTION_TYPES)
@pytest.mark.parametrize("neuron", ["imls", "lif"])
def test_attention_causal_ignores_future(kind, neuron):
    _, T, D = NEURONS[neuron]
    L = 10
    g = torch.Generator().manual_seed(9)
    causal = _prepared_attention(kind, neuron, causal=True, L=L)
    non_causal = _prepared_attention(kind, neuron, causal=False, L=L)
    s = random_spikes((T, 2, L, 16), D, g)
    future_matters = False
    with torch.no_grad():
        base = causal(s)
        base_nc = non_causal(s)
        for i in (0, 3, 7):
            s2 = s.clone()
            s2[:, :, i + 1:] = random_spikes((T, 2, L - i - 1, 16), D, g)
            out = causal(s2)
            assert torch.equal(out[:, :, : i + 1], base[:, :, : i + 1]), f"position <= {i}"
            out_nc = non_causal(s2)
            future_matters |= not torch.allclose(out_nc[:, :, : i + 1], base_nc[:, :, : i + 1])
    # sanity: without causality the same perturbation does reach the past (sdsa_steps never
    # mixes tokens: its neurons integrate along T, or along tokens from the past only)
    assert future_matters or kind == "sdsa_steps"


@pytest.mark.parametrize("kind", ATTENTION_TYPES)
def test_each_type_is_its_own_class_with_only_its_parts(kind):
    from spikespeech.attention import ATTENTIONS, SpikingSelfAttention

    attn = build_attention(16, AttentionConfig(type=kind, heads=4), NeuronConfig())
    assert type(attn) is ATTENTIONS[kind] and isinstance(attn, SpikingSelfAttention)
    assert attn.kind == kind
    gated = kind in ("sdsa", "sdsa_steps", "stsa")
    assert hasattr(attn, "kv_neuron") == gated and hasattr(attn, "q_gate") == gated
    assert hasattr(attn, "hdm") == (kind in ("hd_repssa", "ssa"))  # None for ssa
    assert (getattr(attn, "hdm", None) is not None) == (kind == "hd_repssa")
    assert hasattr(attn, "temporal_neuron") == (kind == "stsa")


@pytest.mark.parametrize("kind", ATTENTION_TYPES)
def test_state_dicts_saved_before_the_qkv_submodule_still_load(kind):
    """Checkpoints and packs written before the Q/K/V spikes moved into ``qkv`` name them
    ``q_proj.…``, ``q_neuron.…`` on the attention itself; they load unchanged."""
    neuron = NeuronConfig(type="imls", levels=4)
    cfg = AttentionConfig(type=kind, heads=4)
    torch.manual_seed(0)
    trained = build_attention(16, cfg, neuron).double().eval()
    randomize_bn_affine(trained)
    old_names = {k.replace("qkv.", "", 1): v for k, v in trained.state_dict().items()}
    assert any(k.startswith("q_proj.") for k in old_names)
    loaded = build_attention(16, cfg, neuron).double().eval()
    loaded.load_state_dict(old_names, strict=True)
    s = random_spikes((1, 2, 7, 16), 4, torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.equal(loaded(s), trained(s))


def test_fold_for_inference_returns_a_new_model_unless_in_place():
    attn = build_attention(16, AttentionConfig(type="hd_repssa", heads=4), NeuronConfig())
    before = {k: v.clone() for k, v in attn.state_dict().items()}
    folded = fold_for_inference(attn)
    assert folded is not attn and isinstance(attn.qkv, QKVSpikes) and attn.training
    assert all(torch.equal(v, attn.state_dict()[k]) for k, v in before.items())
    assert not folded.training and isinstance(folded.qkv, StackedQKVSpikes)
    assert fold_for_inference(attn, inplace=True) is attn and isinstance(attn.qkv, StackedQKVSpikes)
    assert isinstance(fold_for_inference(RepProjection(8, 3)), FoldedProjection)  # a foldable root


def test_attention_unknown_type():
    cfg = AttentionConfig()
    cfg.type = "linear"
    with pytest.raises(ValueError, match="attention.type"):
        build_attention(16, cfg, NeuronConfig())


@pytest.mark.parametrize("kind", ATTENTION_TYPES)
@pytest.mark.parametrize("neuron", ["imls", "lif"])
def test_attention_weight_layers_and_products_see_spikes(kind, neuron):
    """Every weight layer gets spikes in 0..D; every MatMul has at least one spike operand."""
    _, T, D = NEURONS[neuron]
    attn = _prepared_attention(kind, neuron)
    seen = []

    def hook(mod, inputs, output):
        name = names[mod]
        if isinstance(mod, MatMul):
            seen.append((name, any(is_spike_tensor(x, D) for x in inputs)))
        else:
            x = inputs[0]
            seen.append((name, is_spike_tensor(x, D), x.max().item()))

    names = {}
    for name, m in attn.named_modules():
        if isinstance(m, (torch.nn.Linear, torch.nn.Conv1d, MatMul)):
            names[m] = name
            m.register_forward_hook(hook)
    with torch.no_grad():
        attn(random_spikes((T, 2, 10, 16), D))
    assert len(seen) == len(names)
    bad = [entry for entry in seen if not entry[1]]
    assert not bad, f"{kind}/{neuron}: inputs that are not spikes in 0..{D}: {bad}"
