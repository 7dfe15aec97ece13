"""MaskedBatchNorm against nn.BatchNorm1d on valid rows only; HDM mask cache invalidation."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from spikespeech.attention import DecayConfig, HierarchicalDecayMask
from spikespeech.layers import MaskedBatchNorm


@pytest.mark.parametrize("momentum", [0.1, None])
def test_masked_batchnorm_equals_batchnorm_on_valid_rows(momentum):
    torch.manual_seed(0)
    x = torch.randn(2, 3, 7, 5, dtype=torch.float64) * 3 + 1  # (T, B, L, C)
    mask = torch.tensor([[1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0, 0]],
                        dtype=torch.bool)
    x_padded = x.clone()
    x_padded[:, ~mask] = 1e6  # garbage must not matter
    masked = MaskedBatchNorm(5, momentum=momentum).double()
    reference = nn.BatchNorm1d(5, momentum=momentum).double()
    with torch.no_grad():
        for bn in (masked, reference):
            bn.weight.copy_(torch.linspace(0.5, 2.0, 5))
            bn.bias.copy_(torch.linspace(-1.0, 1.0, 5))
    for _ in range(3):  # running statistics must follow the same updates
        out = masked(x_padded, mask[None])
        ref = reference(x[:, mask].reshape(-1, 5))
    torch.testing.assert_close(out[:, mask].reshape(-1, 5), ref, rtol=0, atol=1e-10)
    torch.testing.assert_close(masked.running_mean, reference.running_mean, rtol=0, atol=1e-10)
    torch.testing.assert_close(masked.running_var, reference.running_var, rtol=0, atol=1e-10)
    assert int(masked.num_batches_tracked) == 3
    masked.eval()
    reference.eval()
    torch.testing.assert_close(masked(x, mask[None]), reference(x.reshape(-1, 5)).reshape(x.shape))


def test_masked_batchnorm_gradients_ignore_padding():
    torch.manual_seed(1)
    x = torch.randn(1, 2, 6, 4, dtype=torch.float64, requires_grad=True)
    mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]], dtype=torch.bool)
    out = MaskedBatchNorm(4).double()(x, mask[None])
    (out * mask[None, :, :, None]).sum().backward()
    assert torch.all(x.grad[0, 1, 3:] == 0)


def test_masked_batchnorm_needs_two_valid_frames():
    bn = MaskedBatchNorm(3)
    with pytest.raises(ValueError, match="at least 2 valid frames"):
        bn(torch.randn(1, 2, 4, 3), torch.tensor([[[1, 0, 0, 0], [0, 0, 0, 0]]], dtype=torch.bool))


def test_decay_mask_cache_follows_loaded_exponents():
    cfg = DecayConfig(normalize="none")
    hdm = HierarchicalDecayMask(0, 2, 2, cfg)
    first = hdm(6).clone()
    assert torch.equal(hdm(6), first)  # cached, same values
    state = {"exponent": torch.tensor([1.0, 1.0])}  # gamma = 0.5
    hdm.load_state_dict(state)
    reloaded = hdm(6)
    assert not torch.equal(reloaded, first)
    assert reloaded[0, 0, 0, 3] == pytest.approx(0.5**3)


def test_learnable_decay_gets_gradients():
    hdm = HierarchicalDecayMask(0, 1, 2, DecayConfig(learnable=True))
    hdm(5).sum().backward()
    assert hdm.exponent.grad is not None and torch.isfinite(hdm.exponent.grad).all()


def test_masked_batchnorm_backward_matches_autograd_reference():
    """The closed-form backward equals autograd of the plain formula (incl. padded rows' dy)."""
    torch.manual_seed(2)
    x = torch.randn(2, 3, 5, 4, dtype=torch.float64, requires_grad=True)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0], [1, 1, 1, 0, 0]], dtype=torch.bool)
    bn = MaskedBatchNorm(4).double()
    with torch.no_grad():
        bn.weight.uniform_(0.5, 2.0)
        bn.bias.uniform_(-1.0, 1.0)
    dy = torch.randn(2, 3, 5, 4, dtype=torch.float64)  # non-zero at padded rows too
    out = bn(x, mask[None])
    grads = torch.autograd.grad(out, (x, bn.weight, bn.bias), dy)

    x_ref = x.detach().clone().requires_grad_(True)
    valid = x_ref[:, mask]
    mean = valid.mean((0, 1))
    var = valid.var((0, 1), unbiased=False)
    ref = (x_ref - mean) * torch.rsqrt(var + bn.eps) * bn.weight + bn.bias
    ref_grads = torch.autograd.grad(ref, (x_ref, bn.weight, bn.bias), dy)
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-12)
    for got, want in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(got, want, rtol=0, atol=1e-10)


def test_masked_batchnorm_without_affine():
    torch.manual_seed(3)
    x = torch.randn(1, 2, 6, 3, dtype=torch.float64, requires_grad=True)
    mask = torch.tensor([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]], dtype=torch.bool)
    out = MaskedBatchNorm(3, affine=False).double()(x, mask[None])
    valid = out[:, mask].reshape(-1, 3)
    torch.testing.assert_close(valid.mean(0), torch.zeros(3, dtype=torch.float64), atol=1e-12, rtol=0)
    out.sum().backward()
    assert torch.isfinite(x.grad).all()


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("kernel", [2, 3, 5])
def test_depthwise_token_conv_equals_conv1d(kernel, causal):
    from spikespeech.energy import measure_energy
    from spikespeech.layers import DepthwiseTokenConv

    if not causal and kernel % 2 == 0:
        return
    torch.manual_seed(0)
    layer = DepthwiseTokenConv(6, kernel, causal=causal, bias=True).double()
    reference = nn.Conv1d(6, 6, kernel, groups=6, bias=True).double()
    reference.load_state_dict(layer.state_dict())  # same parameters, same keys
    x = torch.randn(2, 3, 9, 6, dtype=torch.float64)  # (T, B, L, C)
    left, right = (kernel - 1, 0) if causal else (kernel // 2, kernel // 2)
    channels_first = torch.nn.functional.pad(x.reshape(-1, 9, 6).transpose(1, 2), (left, right))
    expected = reference(channels_first).transpose(1, 2).reshape(x.shape)
    torch.testing.assert_close(layer(x), expected, rtol=0, atol=1e-12)
    # the energy meter counts it like the equivalent nn.Conv1d on the same activity
    spikes = (torch.rand(2, 3, 9, 6) > 0.7).double()
    ours = measure_energy(layer, spikes).layers[0]
    padded = torch.nn.functional.pad(spikes.reshape(-1, 9, 6).transpose(1, 2), (left, right))
    ref = measure_energy(nn.Conv1d(6, 6, kernel, groups=6).double(), padded).layers[0]
    assert ours.acs == ref.acs
    # dense: each of 9 outputs per channel reads the taps that land inside the sequence
    taps_inside = sum(sum(0 <= i + j - left < 9 for j in range(kernel)) for i in range(9))
    assert ours.ann_macs == taps_inside * 6 * 2 * 3


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("length", [1, 2, 7])
def test_depthwise_token_conv_multiplier_slice_major_and_in_place(length, causal):
    from spikespeech.layers import DepthwiseTokenConv

    torch.manual_seed(1)
    C, M, k = 4, 3, 3
    layer = DepthwiseTokenConv(C, k, causal=causal, bias=True, multiplier=M).double()
    reference = nn.Conv1d(C, M * C, k, groups=C, bias=True).double()
    reference.load_state_dict(layer.state_dict())
    x = torch.randn(2, length, C, dtype=torch.float64)
    left, right = (k - 1, 0) if causal else (k // 2, k // 2)
    out = reference(torch.nn.functional.pad(x.transpose(1, 2), (left, right))).transpose(1, 2)
    expected = out.unflatten(-1, (C, M)).transpose(-1, -2)  # Conv1d's c*M+m -> (L, M, C)
    torch.testing.assert_close(layer(x).unflatten(-1, (M, C)), expected, rtol=0, atol=1e-12)
    base = torch.randn(2, length, M, C, dtype=torch.float64)
    with torch.no_grad():  # in-place inference path (cached taps)
        torch.testing.assert_close(layer(x, add_to=base.clone()), base + expected, rtol=0, atol=1e-12)
    summed = layer(x, add_to=base.clone())  # with autograd: the weight still gets gradients
    torch.testing.assert_close(summed, base + expected, rtol=0, atol=1e-12)
    summed.sum().backward()
    assert layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0


def test_stacked_imls_neuron_equals_its_neurons_slice_by_slice():
    from spikespeech.neurons import IMLSNeuron

    neurons = [IMLSNeuron(levels=4, init_scale=s) for s in (0.7, 1.0, 1.6)]
    stacked = IMLSNeuron.stacked(neurons)
    u = torch.randn(1, 2, 5, 3, 8)
    with torch.no_grad():
        out = stacked(u)
        for i, neuron in enumerate(neurons):
            assert torch.equal(out[..., i, :], neuron(u[..., i, :]))
    with pytest.raises(RuntimeError, match="inference-only"):
        stacked(u.requires_grad_(True))
    with pytest.raises(ValueError, match="share their configuration"):
        IMLSNeuron.stacked([IMLSNeuron(levels=4), IMLSNeuron(levels=2)])


def test_stacked_projection_equals_separate_projections():
    from spikespeech.attention import RepProjection, StackedProjection

    torch.manual_seed(4)
    projections = [RepProjection(8, kernel=3).eval().folded() for _ in range(3)]
    s = (torch.rand(1, 2, 7, 8) > 0.5).float()
    with torch.no_grad():
        stacked = StackedProjection(projections)(s)
        for i, p in enumerate(projections):
            torch.testing.assert_close(stacked[..., i, :], p(s), rtol=0, atol=1e-6)


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_masked_batchnorm_non_finite_batch_leaves_running_stats(masked, bad):
    # the trainer skips the update of a NaN/inf step; the running statistics must follow
    torch.manual_seed(0)
    bn = MaskedBatchNorm(4).train()
    bn(torch.randn(2, 6, 4))  # some history
    mean, var = bn.running_mean.clone(), bn.running_var.clone()
    x = torch.randn(2, 6, 4)
    x[1, 2, 3] = bad
    mask = torch.ones(2, 6, dtype=torch.bool)
    if masked:
        mask[0, 5] = False
    bn(x, mask)
    torch.testing.assert_close(bn.running_mean, mean, rtol=0, atol=0)
    torch.testing.assert_close(bn.running_var, var, rtol=0, atol=0)
    bn(torch.randn(2, 6, 4), mask)  # a finite batch updates them again
    assert not torch.equal(bn.running_mean, mean)


@pytest.mark.parametrize("momentum", [0.1, None])
def test_masked_batchnorm_unmasked_training_matches_batchnorm1d_with_backward(momentum):
    torch.manual_seed(0)
    ours, ref = MaskedBatchNorm(5, momentum=momentum), nn.BatchNorm1d(5, momentum=momentum)
    for _ in range(3):
        x = torch.randn(4, 7, 5, requires_grad=True)
        xr = x.detach().clone().requires_grad_(True)
        y, yr = ours(x), ref(xr.reshape(-1, 5)).reshape(4, 7, 5)
        (y * torch.arange(5.0)).sum().backward()  # backward after the buffers were updated
        (yr * torch.arange(5.0)).sum().backward()
        torch.testing.assert_close(y, yr)
        torch.testing.assert_close(x.grad, xr.grad)
    torch.testing.assert_close(ours.running_mean, ref.running_mean)
    torch.testing.assert_close(ours.running_var, ref.running_var)
    assert int(ours.num_batches_tracked) == int(ref.num_batches_tracked) == 3
