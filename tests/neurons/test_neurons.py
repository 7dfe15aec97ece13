"""Tests for the spiking neurons: binary multi-step LIF, surrogates, state, IMLS."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from spikespeech.neurons import IMLSNeuron, MultiStepLIF, heaviside, reset_states
from spikespeech.neurons.config import NeuronConfig, build_neuron

DT = torch.float64


def _col(values):
    """A (T, 1, 1) float64 input sequence for one neuron."""
    return torch.tensor(values, dtype=DT).view(-1, 1, 1)


def _run_stepwise(neuron: MultiStepLIF, x_seq: torch.Tensor):
    """Feed one step per call with a stateful neuron; return spikes and membranes after each step."""
    assert neuron.stateful
    spikes, membranes = [], []
    for t in range(x_seq.shape[0]):
        spikes.append(neuron(x_seq[t : t + 1])[0].item())
        membranes.append(neuron.v.item())
    return spikes, membranes


# ----------------------------------------------------------------------------------------
# MultiStepLIF: hand-computed sequences
# ----------------------------------------------------------------------------------------
# tau = 2, v_th = 1, v_reset = 0, input x = [3.0, 1.6, 1.6, 0.4]
#
# decay_input=True:  h = v + (x - v) / 2 = (v + x) / 2
#   hard: t0 h=1.5 ->s=1 v=0 | t1 h=0.8 ->s=0 v=0.8 | t2 h=1.2 ->s=1 v=0 | t3 h=0.2 ->s=0 v=0.2
#   soft: t0 h=1.5 ->s=1 v=0.5 | t1 h=1.05 ->s=1 v=0.05 | t2 h=0.825 ->s=0 v=0.825
#         t3 h=0.6125 ->s=0 v=0.6125
# decay_input=False: h = v - v / 2 + x = v / 2 + x
#   hard: t0 h=3 ->s=1 v=0 | t1 h=1.6 ->s=1 v=0 | t2 h=1.6 ->s=1 v=0 | t3 h=0.4 ->s=0 v=0.4
#   soft: t0 h=3 ->s=1 v=2 | t1 h=2.6 ->s=1 v=1.6 | t2 h=2.4 ->s=1 v=1.4 | t3 h=1.1 ->s=1 v=0.1
HAND_X = [3.0, 1.6, 1.6, 0.4]
HAND_CASES = [
    ("hard", True, [1, 0, 1, 0], [0.0, 0.8, 0.0, 0.2]),
    ("soft", True, [1, 1, 0, 0], [0.5, 0.05, 0.825, 0.6125]),
    ("hard", False, [1, 1, 1, 0], [0.0, 0.0, 0.0, 0.4]),
    ("soft", False, [1, 1, 1, 1], [2.0, 1.6, 1.4, 0.1]),
]


@pytest.mark.parametrize("reset,decay_input,exp_spikes,exp_v", HAND_CASES)
def test_lif_hand_computed_sequence(reset, decay_input, exp_spikes, exp_v):
    x = _col(HAND_X)
    # one call over all T = 4 steps
    lif = MultiStepLIF(tau=2.0, reset=reset, decay_input=decay_input)
    out = lif(x)
    assert out.shape == x.shape
    assert out.flatten().tolist() == [float(s) for s in exp_spikes]
    assert lif.v is None  # stateless by default
    # step by step with carried state exposes the membrane after every step
    lif_s = MultiStepLIF(tau=2.0, reset=reset, decay_input=decay_input, stateful=True)
    spikes, membranes = _run_stepwise(lif_s, x)
    assert spikes == [float(s) for s in exp_spikes]
    assert membranes == pytest.approx(exp_v, abs=1e-12)


def test_lif_hand_computed_nonzero_reset_and_tau():
    # tau = 4, v_th = 1, v_reset = 0.5, hard reset, decay_input=True:
    #   h = v + (x - (v - 0.5)) / 4, v starts at v_reset = 0.5
    #   t0: h = 0.5 + 2.5/4            = 1.125   -> s=1, v=0.5
    #   t1: h = 0.5 + 0.5/4            = 0.625   -> s=0, v=0.625
    #   t2: h = 0.625 + (4.5-0.125)/4  = 1.71875 -> s=1, v=0.5
    x = _col([2.5, 0.5, 4.5])
    lif = MultiStepLIF(tau=4.0, v_threshold=1.0, v_reset=0.5, stateful=True)
    spikes, membranes = _run_stepwise(lif, x)
    assert spikes == [1.0, 0.0, 1.0]
    assert membranes == pytest.approx([0.5, 0.625, 0.5], abs=1e-12)


def test_lif_fires_exactly_at_threshold():
    # decay_input=False, tau=2: h = x at the first step; h == v_th must spike (H(0) = 1)
    lif = MultiStepLIF(tau=2.0, v_threshold=1.0, decay_input=False)
    out = lif(_col([1.0, 0.0]))
    assert out.flatten().tolist() == [1.0, 0.0]
    out = lif(_col([1.0 - 1e-9]))
    assert out.flatten().tolist() == [0.0]


def test_lif_batched_neurons_are_independent():
    # two neurons side by side behave like the hand-computed single ones
    x = torch.stack([_col(HAND_X), _col([0.0, 0.0, 4.0, 0.0])], dim=2)[..., 0]  # (4, 1, 2)
    lif = MultiStepLIF(tau=2.0, reset="hard")
    out = lif(x)
    assert out[:, 0, 0].tolist() == [1.0, 0.0, 1.0, 0.0]
    # second neuron: h = (v + x)/2 -> 0, 0, 2 (spike), 0
    assert out[:, 0, 1].tolist() == [0.0, 0.0, 1.0, 0.0]


@pytest.mark.parametrize("reset", ["hard", "soft"])
@pytest.mark.parametrize("surrogate", ["atan", "sigmoid", "triangle"])
def test_detach_reset_changes_gradient_not_forward(reset, surrogate):
    g = torch.Generator().manual_seed(7)
    x = (1.0 + torch.randn(6, 3, 10, generator=g, dtype=DT))
    w = torch.randn(6, 3, 10, generator=g, dtype=DT)
    outs, grads = [], []
    for detach in (True, False):
        xi = x.clone().requires_grad_(True)
        lif = MultiStepLIF(tau=2.0, reset=reset, surrogate=surrogate, alpha=1.0,
                           detach_reset=detach)
        out = lif(xi)
        (out * w).sum().backward()
        outs.append(out.detach())
        grads.append(xi.grad)
    assert torch.equal(outs[0], outs[1])
    assert outs[0].sum() > 0  # the reset path is exercised at all
    assert torch.isfinite(grads[0]).all() and torch.isfinite(grads[1]).all()
    assert not torch.allclose(grads[0], grads[1])


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    T=st.integers(1, 6),
    n=st.integers(1, 12),
    reset=st.sampled_from(["hard", "soft"]),
    decay_input=st.booleans(),
    tau=st.floats(1.05, 10.0),
    gain=st.floats(0.1, 5.0),
)
def test_lif_spikes_are_binary(seed, T, n, reset, decay_input, tau, gain):
    g = torch.Generator().manual_seed(seed)
    x = gain * torch.randn(T, 2, n, generator=g)
    out = MultiStepLIF(tau=tau, reset=reset, decay_input=decay_input)(x)
    assert out.shape == x.shape
    assert bool(((out == 0) | (out == 1)).all())


# ----------------------------------------------------------------------------------------
# Surrogate gradients
# ----------------------------------------------------------------------------------------
def _atan_deriv(x, a):
    # d/dx [atan(pi/2 * a * x) / pi + 1/2]
    return (a / 2) / (1 + (math.pi / 2 * a * x) ** 2)


def _sigmoid_deriv(x, a):
    sg = 1.0 / (1.0 + math.exp(-a * x))
    return a * sg * (1 - sg)


def _triangle_deriv(x, a):
    return max(0.0, a - a * a * abs(x))


DERIVS = {"atan": _atan_deriv, "sigmoid": _sigmoid_deriv, "triangle": _triangle_deriv}
# SpikingJelly's default slopes: ATan alpha=2, Sigmoid alpha=4, PiecewiseQuadratic alpha=1
SJ_DEFAULT_ALPHA = {"atan": 2.0, "sigmoid": 4.0, "triangle": 1.0}
POINTS = [-2.0, -0.7, -0.25, 0.0, 0.1, 0.5, 0.99, 3.0]


@pytest.mark.parametrize("name", ["atan", "sigmoid", "triangle"])
@pytest.mark.parametrize("alpha", [None, 0.5, 3.0])
def test_surrogate_gradient_matches_analytic_derivative(name, alpha):
    x = torch.tensor(POINTS, dtype=DT, requires_grad=True)
    y = heaviside(x, name, alpha)
    # forward is the exact Heaviside step with H(0) = 1
    assert y.tolist() == [1.0 if p >= 0 else 0.0 for p in POINTS]
    y.sum().backward()
    a = SJ_DEFAULT_ALPHA[name] if alpha is None else alpha
    expected = [DERIVS[name](p, a) for p in POINTS]
    assert x.grad.tolist() == pytest.approx(expected, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("name,smooth", [
    ("atan", lambda x, a: torch.atan(math.pi / 2 * a * x) / math.pi + 0.5),
    ("sigmoid", lambda x, a: torch.sigmoid(a * x)),
])
def test_surrogate_gradient_is_derivative_of_smooth_function(name, smooth):
    # independent check with autograd of the documented smooth stand-in g(x)
    x = torch.linspace(-3, 3, 41, dtype=DT, requires_grad=True)
    heaviside(x, name, 1.7).sum().backward()
    xr = x.detach().clone().requires_grad_(True)
    smooth(xr, 1.7).sum().backward()
    assert torch.allclose(x.grad, xr.grad, rtol=1e-12, atol=1e-15)


def test_triangle_support_is_half_width_one_over_alpha():
    a = 2.0
    x = torch.tensor([-0.51, -0.49, 0.49, 0.51], dtype=DT, requires_grad=True)
    heaviside(x, "triangle", a).sum().backward()
    assert x.grad[0] == 0 and x.grad[3] == 0
    assert x.grad[1] > 0 and x.grad[2] > 0


@pytest.mark.parametrize("name", ["atan", "sigmoid", "triangle"])
def test_lif_uses_its_surrogate(name):
    # one step from rest with decay_input: h = x / tau, spike = H(h - 1)
    # d spike / d x = g'(x / tau - 1) / tau
    tau, alpha = 2.0, 1.5
    pts = [1.0, 1.8, 2.0, 2.6, 4.0]
    x = torch.tensor(pts, dtype=DT).view(1, 1, -1).requires_grad_(True)
    lif = MultiStepLIF(tau=tau, surrogate=name, alpha=alpha)
    out = lif(x)
    assert out.flatten().tolist() == [1.0 if p / tau >= 1 else 0.0 for p in pts]
    out.sum().backward()
    expected = [DERIVS[name](p / tau - 1, alpha) / tau for p in pts]
    assert x.grad.flatten().tolist() == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_heaviside_takes_a_surrogate_object():
    from spikespeech.neurons.surrogate import SURROGATES, Surrogate

    class Rectangle(Surrogate):  # a new shape is one small class
        default_alpha = 2.0

        def derivative(self, x, alpha):
            return (x.abs() < 1 / alpha).to(x.dtype) * (alpha / 2)

    x = torch.tensor([-1.0, -0.2, 0.0, 0.3, 0.6], requires_grad=True)
    y = heaviside(x, Rectangle())
    y.sum().backward()
    assert y.tolist() == [0, 0, 1, 1, 1]
    assert x.grad.tolist() == [0, 1, 1, 1, 0]
    named = torch.tensor([0.3], requires_grad=True)
    heaviside(named, SURROGATES["atan"]).sum().backward()
    same = torch.tensor([0.3], requires_grad=True)
    heaviside(same, "atan").sum().backward()
    assert named.grad == same.grad


def test_heaviside_unknown_surrogate():
    with pytest.raises(ValueError, match="surrogate"):
        heaviside(torch.zeros(3), "relu")


@pytest.mark.parametrize("kwargs,name", [
    ({"tau": 1.0}, "tau"),
    ({"tau": 0.5}, "tau"),
    ({"reset": "zero"}, "reset"),
    ({"surrogate": "erf"}, "surrogate"),
])
def test_lif_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        MultiStepLIF(**kwargs)


# ----------------------------------------------------------------------------------------
# State handling
# ----------------------------------------------------------------------------------------
def test_stateless_calls_are_independent():
    x = 1.5 * torch.randn(4, 2, 8)
    lif = MultiStepLIF()
    a = lif(x)
    b = lif(x)
    assert torch.equal(a, b)
    assert lif.v is None


@pytest.mark.parametrize("reset", ["hard", "soft"])
@pytest.mark.parametrize("decay_input", [True, False])
def test_stateful_chunks_equal_one_long_call(reset, decay_input):
    g = torch.Generator().manual_seed(3)
    x1 = 1.2 * torch.randn(3, 2, 8, generator=g, dtype=DT)
    x2 = 1.2 * torch.randn(4, 2, 8, generator=g, dtype=DT)
    whole = MultiStepLIF(reset=reset, decay_input=decay_input, stateful=True)
    y_all = whole(torch.cat([x1, x2]))
    chunked = MultiStepLIF(reset=reset, decay_input=decay_input, stateful=True)
    y1 = chunked(x1)
    y2 = chunked(x2)
    assert torch.equal(torch.cat([y1, y2]), y_all)
    assert torch.allclose(chunked.v, whole.v, atol=1e-12)
    # the carried state matters: a fresh start on x2 differs from the continued run
    fresh = MultiStepLIF(reset=reset, decay_input=decay_input)(x2)
    assert not torch.equal(fresh, y2)


def test_stateful_reset_returns_to_rest():
    x = 1.2 * torch.randn(3, 2, 8)
    lif = MultiStepLIF(stateful=True)
    first = lif(x)
    assert lif.v is not None
    lif.reset()
    assert lif.v is None
    assert torch.equal(lif(x), first)


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)
        self.a = MultiStepLIF(stateful=True)
        self.inner = nn.Sequential(nn.Identity(), MultiStepLIF(stateful=True))


def test_reset_states_is_scoped_to_one_model():
    model_a, model_b = _Net(), _Net()
    x = 2.0 * torch.rand(2, 1, 4) + 0.5
    for model in (model_a, model_b):
        model.a(x)
        model.inner[1](x)
    saved_b = (model_b.a.v.clone(), model_b.inner[1].v.clone())
    reset_states(model_a)
    assert model_a.a.v is None and model_a.inner[1].v is None
    assert model_b.a.v is not None and model_b.inner[1].v is not None
    assert torch.equal(model_b.a.v, saved_b[0]) and torch.equal(model_b.inner[1].v, saved_b[1])


def test_mismatched_carried_state_raises():
    lif = MultiStepLIF(stateful=True)
    lif(torch.randn(2, 3, 8))
    with pytest.raises(ValueError, match="shape"):
        lif(torch.randn(2, 4, 8))
    reset_states(lif)
    assert lif(torch.randn(2, 4, 8)).shape == (2, 4, 8)


def test_build_neuron_follows_config():
    lif = build_neuron(NeuronConfig(type="lif", tau=3.0, reset="soft", surrogate="sigmoid"),
                       stateful=True)
    assert isinstance(lif, MultiStepLIF)
    assert (lif.tau, lif.reset_mode, lif.surrogate, lif.stateful) == (3.0, "soft", "sigmoid", True)
    imls = build_neuron(NeuronConfig(type="imls", levels=6, statistic="rms", output="dequant"))
    assert isinstance(imls, IMLSNeuron)
    assert (imls.levels, imls.statistic, imls.output) == (6, "rms", "dequant")


# ----------------------------------------------------------------------------------------
# IMLS neuron
# ----------------------------------------------------------------------------------------
def _stat_ref(u: torch.Tensor, statistic: str) -> torch.Tensor:
    if statistic == "mean_abs":
        return u.abs().mean(-1, keepdim=True)
    if statistic == "rms":
        return torch.sqrt((u * u).mean(-1, keepdim=True))
    return u.abs().max(-1, keepdim=True).values


shapes = st.lists(st.integers(1, 5), min_size=1, max_size=3).map(lambda s: (1, *s))


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    lead=shapes,
    C=st.integers(1, 12),
    levels=st.integers(1, 8),
    scale=st.floats(0.05, 4.0),
    gain=st.floats(1e-2, 1e2),
    statistic=st.sampled_from(["mean_abs", "rms", "max_abs"]),
)
def test_imls_counts_are_integers_in_range(seed, lead, C, levels, scale, gain, statistic):
    g = torch.Generator().manual_seed(seed)
    u = gain * torch.randn(*lead, C, generator=g, dtype=DT)
    neuron = IMLSNeuron(levels=levels, statistic=statistic, init_scale=scale).double()
    s = neuron(u)
    assert s.shape == u.shape
    assert torch.equal(s, s.round())
    assert s.min() >= 0 and s.max() <= levels
    assert not torch.signbit(s).any()  # no -0.0
    # reference: theta = scale * stat(u) per token
    theta = neuron.scale.item() * _stat_ref(u, statistic).clamp_min(1e-5)
    expected = torch.clamp(torch.round(u / theta), 0, levels)
    assert torch.equal(s, expected)


@pytest.mark.parametrize("statistic", ["mean_abs", "rms", "max_abs"])
def test_imls_count_matches_reference_numpy(statistic):
    import numpy as np

    rng = np.random.default_rng(5)
    u_np = rng.normal(size=(1, 3, 7, 16)) * rng.uniform(0.1, 10, size=(1, 3, 7, 1))
    D, scale = 5, (0.3 if statistic == "max_abs" else 0.7)
    if statistic == "mean_abs":
        m = np.abs(u_np).mean(-1, keepdims=True)
    elif statistic == "rms":
        m = np.sqrt((u_np**2).mean(-1, keepdims=True))
    else:
        m = np.abs(u_np).max(-1, keepdims=True)
    neuron = IMLSNeuron(levels=D, statistic=statistic, init_scale=scale).double()
    scale = neuron.scale.item()  # the float32 parameter's value
    expected = np.clip(np.round(u_np / (scale * m)), 0, D)
    out = neuron(torch.from_numpy(u_np)).detach().numpy()
    np.testing.assert_array_equal(out, expected)
    # sanity: the test exercises the whole range, not only zeros
    assert set(np.unique(out)) >= {0.0, 1.0, 2.0}


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n_tok=st.integers(1, 6),
    C=st.integers(2, 16),
    levels=st.integers(1, 8),
    statistic=st.sampled_from(["mean_abs", "rms", "max_abs"]),
    log2c=st.integers(-3, 10),
)
def test_imls_adaptive_is_scale_invariant_per_token(seed, n_tok, C, levels, statistic, log2c):
    g = torch.Generator().manual_seed(seed)
    u = torch.randn(1, 2, n_tok, C, generator=g, dtype=DT)
    # per-token positive factors: a power of two (exact in floating point) times random
    factors = (2.0**log2c) * torch.exp(torch.randn(1, 2, n_tok, 1, generator=g, dtype=DT))
    neuron = IMLSNeuron(levels=levels, statistic=statistic, init_scale=0.8).double()
    assert torch.equal(neuron(u), neuron(u * factors))
    # power-of-two scaling is exact, so the invariance is bit-exact for every input
    assert torch.equal(neuron(u), neuron(u * 2.0**log2c))


def test_imls_fixed_threshold_is_count_of_u_over_scale():
    g = torch.Generator().manual_seed(11)
    u = 2.0 * torch.randn(1, 4, 6, 8, generator=g, dtype=DT)
    D, scale = 4, 0.6
    neuron = IMLSNeuron(levels=D, threshold="fixed", init_scale=scale).double()
    s = neuron(u)
    assert torch.equal(s, torch.clamp(torch.round(u / neuron.scale.item()), 0, D))
    assert set(s.unique().tolist()) == set(range(D + 1))
    # not scale invariant: a small token gives fewer spikes than the same token scaled up
    assert not torch.equal(neuron(u), neuron(4.0 * u))
    assert neuron(0.01 * u).sum() < neuron(u).sum()


def test_imls_dequant_output_is_count_times_theta():
    g = torch.Generator().manual_seed(12)
    u = torch.randn(1, 3, 5, 8, generator=g, dtype=DT)
    count = IMLSNeuron(levels=4, init_scale=0.9).double()(u)
    deq = IMLSNeuron(levels=4, init_scale=0.9, output="dequant").double()(u)
    theta = torch.tensor(0.9, dtype=torch.float32).item() * u.abs().mean(-1, keepdim=True)
    assert torch.allclose(deq, count * theta, rtol=1e-14, atol=0)


def test_imls_zero_token_gives_zero_spikes():
    u = torch.zeros(1, 2, 3, 8, dtype=DT)
    u[0, 0, 0] = torch.arange(8, dtype=DT)
    s = IMLSNeuron(levels=4).double()(u)
    assert torch.isfinite(s).all()
    assert s[0, 1].abs().sum() == 0 and s[0, 0, 1:].abs().sum() == 0


def _imls_reference(u, scale, levels, statistic, detach_stat, lsq, output, eps=1e-5):
    """Straight-through IMLS written with plain autograd ops (independent of the package)."""
    C = u.shape[-1]
    gscale = 1.0 / math.sqrt(C * levels) if lsq else 1.0
    # LSQ gradient scaling: value of `scale`, gradient multiplied by gscale
    alpha = scale * gscale + (scale - scale * gscale).detach()
    if statistic is None:
        theta = alpha
    else:
        m = _stat_ref(u, statistic)
        if detach_stat:
            m = m.detach()
        theta = alpha * m.clamp_min(eps)
    x = u / theta
    xc = x.clamp(0, levels)
    s = xc + (xc.round() - xc).detach()
    return s * theta if output == "dequant" else s


STAT_CASES = [("mean_abs", False), ("mean_abs", True), ("rms", False), ("rms", True),
              ("max_abs", False), ("max_abs", True), (None, False)]  # None = fixed threshold


@pytest.mark.parametrize("output", ["count", "dequant"])
@pytest.mark.parametrize("statistic,detach_statistic", STAT_CASES)
@pytest.mark.parametrize("lsq", [True, False])
def test_imls_backward_matches_straight_through_reference(output, statistic, detach_statistic,
                                                         lsq):
    g = torch.Generator().manual_seed(21)
    levels, init = 4, 0.8
    u0 = 1.5 * torch.randn(2, 3, 5, 12, generator=g, dtype=DT)
    u0[0, 0, 0, 0] = 40.0  # far above D * theta: zero straight-through gradient there
    w = torch.randn(2, 3, 5, 12, generator=g, dtype=DT)

    neuron = IMLSNeuron(
        levels=levels,
        threshold="fixed" if statistic is None else "adaptive",
        statistic=statistic or "mean_abs",
        init_scale=init,
        lsq_grad_scale=lsq,
        detach_statistic=detach_statistic,
        output=output,
    ).double()
    u = u0.clone().requires_grad_(True)
    out = neuron(u)
    (out * w).sum().backward()

    ur = u0.clone().requires_grad_(True)
    scale_r = neuron.scale.detach().clone().requires_grad_(True)
    ref = _imls_reference(ur, scale_r, levels, statistic, detach_statistic, lsq, output)
    (ref * w).sum().backward()

    assert torch.allclose(out, ref, rtol=0, atol=1e-12)
    # both clamp boundaries are exercised: negative inputs and one far above D * theta
    assert (out == 0).any()
    if output == "count" and statistic != "max_abs":
        assert out[0, 0, 0, 0] == levels
    assert torch.allclose(u.grad, ur.grad, rtol=1e-10, atol=1e-10)
    assert neuron.scale.grad.shape == scale_r.grad.shape
    assert torch.allclose(neuron.scale.grad, scale_r.grad, rtol=1e-10, atol=1e-10)
    assert neuron.scale.grad.abs().item() > 0


def test_imls_lsq_grad_scale_factor():
    g = torch.Generator().manual_seed(22)
    u = torch.randn(1, 2, 3, 9, generator=g, dtype=DT)
    grads = {}
    for lsq in (True, False):
        n = IMLSNeuron(levels=4, lsq_grad_scale=lsq, init_scale=0.7).double()
        n(u).sum().backward()
        grads[lsq] = n.scale.grad.item()
    assert grads[True] == pytest.approx(grads[False] / math.sqrt(9 * 4), rel=1e-12)


def test_imls_non_learnable_scale_is_buffer():
    n = IMLSNeuron(learnable_scale=False, init_scale=0.5)
    assert "scale" not in dict(n.named_parameters())
    assert "scale" in dict(n.named_buffers())
    u = torch.randn(1, 2, 8, requires_grad=True)
    n(u).sum().backward()
    assert u.grad is not None


@pytest.mark.parametrize("kwargs,name", [
    ({"levels": 0}, "levels"),
    ({"threshold": "dynamic"}, "threshold"),
    ({"statistic": "median"}, "statistic"),
    ({"output": "rate"}, "output"),
    ({"init_scale": 0.0}, "init_scale"),
    ({"init_scale": -1.0}, "init_scale"),
])
def test_imls_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        IMLSNeuron(**kwargs)


def test_imls_fixed_threshold_ignores_statistic_name():
    # the statistic is irrelevant (and unchecked) when the threshold is fixed
    n = IMLSNeuron(threshold="fixed", statistic="anything")
    assert n.statistic is None
