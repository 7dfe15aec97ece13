"""Binary (thermometer) expansion of multi-level spikes and spike-driven weight layers."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from spikespeech.neurons import from_binary_slots, spike_driven_apply, to_binary_slots

DT = torch.float64


def _counts(seed, shape, levels, dtype=DT):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, levels + 1, shape, generator=g).to(dtype)


@settings(max_examples=50, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    shape=st.lists(st.integers(0, 5), min_size=0, max_size=4).map(tuple),
    levels=st.integers(1, 9),
    dtype=st.sampled_from([torch.float32, torch.float64, torch.int64]),
)
def test_binary_slots_round_trip_and_thermometer(seed, shape, levels, dtype):
    counts = _counts(seed, shape, levels, dtype)
    slots = to_binary_slots(counts, levels)
    assert slots.shape == (levels, *shape)
    assert slots.dtype == counts.dtype
    assert bool(((slots == 0) | (slots == 1)).all())
    assert torch.equal(from_binary_slots(slots), counts)
    # thermometer code: slot d (1-based) is 1[count >= d], hence non-increasing along d
    for d in range(levels):
        assert torch.equal(slots[d], (counts >= d + 1).to(counts.dtype))
    if levels > 1:
        assert bool((slots[:-1] >= slots[1:]).all())


def test_binary_slots_hand_example():
    counts = torch.tensor([0.0, 1.0, 3.0, 2.0])
    slots = to_binary_slots(counts, 3)
    expected = torch.tensor([
        [0.0, 1.0, 1.0, 1.0],
        [0.0, 0.0, 1.0, 1.0],
        [0.0, 0.0, 1.0, 0.0],
    ])
    assert torch.equal(slots, expected)


@pytest.mark.parametrize("bad", [[-1.0, 0.0], [0.0, 4.0], [5.0]])
def test_binary_slots_reject_out_of_range(bad):
    with pytest.raises(ValueError, match="0..3"):
        to_binary_slots(torch.tensor(bad), 3)


@pytest.mark.parametrize("bad", [[0.5], [1.0, 2.25], [2.999]])
def test_binary_slots_reject_non_integers(bad):
    with pytest.raises(ValueError, match="integer"):
        to_binary_slots(torch.tensor(bad), 3)


# ----------------------------------------------------------------------------------------
# spike_driven_apply == layer(counts)
# ----------------------------------------------------------------------------------------
def _check_equivalence(layer: nn.Module, counts: torch.Tensor, levels: int) -> None:
    """``layer(s) == spike_driven_apply(layer, s, D)``; without bias also ``== sum_d layer(b_d)``.

    With a bias, the bias is added once (``W s + b = sum_d W b_d + b``), *not* once per slot:
    ``sum_d layer(b_d)`` would add it ``D`` times.
    """
    dense = layer(counts)
    driven = spike_driven_apply(layer, counts, levels)
    assert driven.shape == dense.shape
    assert torch.allclose(driven, dense, rtol=0, atol=1e-10)
    per_slot = sum(layer(b) for b in to_binary_slots(counts, levels))
    if layer.bias is None:
        assert torch.allclose(per_slot, dense, rtol=0, atol=1e-10)
    else:
        spatial = 0 if isinstance(layer, nn.Linear) else layer.weight.dim() - 2
        b = layer.bias.view((-1,) + (1,) * spatial)  # channel axis precedes the spatial axes
        # bias added once: remove the D copies from the per-slot sum and add one back
        assert torch.allclose(per_slot - levels * b + b, dense, rtol=0, atol=1e-10)
        if levels > 1:
            assert not torch.allclose(per_slot, dense, atol=1e-6)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    d_in=st.integers(1, 12),
    d_out=st.integers(1, 12),
    lead=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
    levels=st.integers(1, 6),
    bias=st.booleans(),
)
def test_spike_driven_linear(seed, d_in, d_out, lead, levels, bias):
    """``W s (+ b) == sum_d W b_d (+ b)``: the bias is added once, after the accumulation over
    the D binary slots, never once per slot (checked in ``_check_equivalence``)."""
    torch.manual_seed(seed)
    layer = nn.Linear(d_in, d_out, bias=bias).double()
    if bias:
        with torch.no_grad():
            layer.bias.normal_()
    _check_equivalence(layer, _counts(seed, (*lead, d_in), levels), levels)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    groups=st.sampled_from([1, 2, 4]),
    ch_mult=st.integers(1, 3),
    out_mult=st.integers(1, 3),
    kernel=st.integers(1, 5),
    padding=st.integers(0, 3),
    length=st.integers(1, 10),
    levels=st.integers(1, 6),
    bias=st.booleans(),
)
def test_spike_driven_conv1d(seed, groups, ch_mult, out_mult, kernel, padding, length, levels,
                             bias):
    if length + 2 * padding < kernel:
        length = kernel
    torch.manual_seed(seed)
    c_in, c_out = groups * ch_mult, groups * out_mult
    layer = nn.Conv1d(c_in, c_out, kernel, padding=padding, groups=groups, bias=bias).double()
    if bias:
        with torch.no_grad():
            layer.bias.normal_()
    _check_equivalence(layer, _counts(seed, (3, c_in, length), levels), levels)


@pytest.mark.parametrize("bias", [False, True])
def test_spike_driven_depthwise_causal_style_conv(bias):
    # depthwise conv as used by RepProjection (groups = channels), with manual left padding
    layer = nn.Conv1d(6, 6, 5, padding=0, groups=6, bias=bias).double()
    counts = nn.functional.pad(_counts(3, (2, 6, 9), 4), (4, 0))
    _check_equivalence(layer, counts, 4)


@pytest.mark.parametrize("bias", [False, True])
def test_spike_driven_conv2d(bias):
    layer = nn.Conv2d(4, 6, 3, padding=1, groups=2, bias=bias).double()
    _check_equivalence(layer, _counts(4, (2, 4, 5, 7), 3), 3)


@pytest.mark.parametrize("bias", [False, True])
def test_spike_driven_conv1d_unbatched_input(bias):
    """nn.Conv1d accepts unbatched ``(C, L)`` input; the spike-driven form must match it too."""
    layer = nn.Conv1d(4, 3, 3, padding=1, bias=bias).double()
    _check_equivalence(layer, _counts(5, (4, 6), 2), 2)


def test_spike_driven_apply_rejects_other_layers():
    with pytest.raises(TypeError, match="unsupported"):
        spike_driven_apply(nn.LayerNorm(4), torch.ones(2, 4), 1)
