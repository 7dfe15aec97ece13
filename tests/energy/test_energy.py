"""Energy meter against hand-computed operation counts on tiny networks."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from spikespeech.config import from_dict
from spikespeech.encoder import ANNEncoder, EncoderConfig, SpikingEncoder
from spikespeech.energy import EnergyMeter, classify, measure_energy
from spikespeech.layers import ElementwiseMul, MatMul, fold_for_inference
from spikespeech.neurons import IMLSNeuron


def _only(report, name):
    (entry,) = [layer for layer in report.layers if layer.name == name]
    return entry


def test_classify():
    assert classify(torch.tensor([0.0, 1.0, 1.0])) == "binary"
    assert classify(torch.tensor([0.0, 3.0, 4.0])) == "multilevel"
    assert classify(torch.tensor([0.0, 0.5])) == "real"
    assert classify(torch.tensor([-1.0, 1.0])) == "real"
    # above the neurons' largest count an integer is a value, not a spike count
    assert classify(torch.tensor([0.0, 3.0, 4.0]), max_level=4) == "multilevel"
    assert classify(torch.tensor([0.0, 3.0, 5.0]), max_level=4) == "real"


def test_linear_binary_multilevel_and_real_counts():
    layer = nn.Linear(4, 3)
    binary = torch.tensor([[1.0, 0, 1, 0], [0, 0, 1, 0]])  # 3 spikes, fan-out 3
    report = measure_energy(layer, binary)
    entry = report.layers[0]
    assert (entry.input, entry.acs, entry.macs, entry.ann_macs) == ("binary", 9, 0, 24)
    assert entry.firing_rate == pytest.approx(3 / 8)

    counts = torch.tensor([[2.0, 0, 1, 0], [0, 0, 4, 0]])  # 7 events -> 21 ACs
    entry = measure_energy(layer, counts).layers[0]
    assert (entry.input, entry.acs, entry.macs) == ("multilevel", 21, 0)

    real = torch.tensor([[0.5, -1.0, 2.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
    entry = measure_energy(layer, real).layers[0]
    assert (entry.input, entry.macs, entry.acs, entry.ann_macs) == ("real", 24, 0, 24)
    assert entry.firing_rate is None


def test_multilevel_firing_rate_uses_neuron_levels():
    model = nn.Sequential(IMLSNeuron(levels=4), nn.Linear(4, 2))
    with EnergyMeter(model) as meter:
        model[1](torch.tensor([[2.0, 0, 1, 0], [0, 0, 4, 0]]))
    entry = meter.report().layers[0]
    assert entry.firing_rate == pytest.approx(7 / (8 * 4))


def test_conv1d_counts_respect_edges():
    conv = nn.Conv1d(2, 3, kernel_size=3, padding=1)
    x = torch.zeros(1, 2, 4)
    x[0, 0, 0] = 1.0  # reaches output positions 0 and 1 of 3 channels
    entry = measure_energy(conv, x).layers[0]
    assert entry.acs == 6
    # dense: per output channel, edge positions read 2 ch x 2 taps, middle ones 2 x 3
    assert entry.ann_macs == 3 * (4 + 6 + 6 + 4)


def test_depthwise_conv_counts():
    conv = nn.Conv1d(2, 2, kernel_size=3, padding=1, groups=2)
    x = torch.zeros(1, 2, 5)
    x[0, 1, 2] = 2.0  # a count of 2 in the middle reaches 3 outputs of its own channel
    entry = measure_energy(conv, x).layers[0]
    assert entry.acs == 2 * 3
    assert entry.ann_macs == 2 * (2 + 3 + 3 + 3 + 2)


class _Products(nn.Module):
    def __init__(self):
        super().__init__()
        self.mm = MatMul()
        self.gate = ElementwiseMul()
        self.scale = ElementwiseMul(count_as="mac")

    def forward(self, a, b):
        return self.mm(a, b), self.gate(a, torch.full_like(a, 0.3)), self.scale(a, a)


def test_matmul_and_elementwise_counts():
    a = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    b_spk = torch.tensor([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]])
    report = measure_energy(_Products(), a, b_spk)
    # coinciding events: sum(a @ b) = (1 + 1 + 0) + (1 + 2 + 1)
    assert _only(report, "mm").acs == 6
    assert _only(report, "mm").ann_macs == 2 * 2 * 3
    assert _only(report, "gate").acs == 3  # one gate per spike
    assert _only(report, "scale").macs == 4  # forced real multiplies

    b_real = torch.tensor([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
    mm = _only(measure_energy(_Products(), a, b_real), "mm")
    assert (mm.acs, mm.macs) == (3 * 3, 0)  # 3 spikes, each adds a row of 3
    mm = _only(measure_energy(_Products(), b_real.T, a), "mm")  # real (3x2) @ spikes (2x2)
    assert (mm.acs, mm.macs) == (3 * 3, 0)  # 3 spikes, each reaches 3 output rows
    real = torch.tensor([[0.5, 0.1], [0.2, 0.3]])
    mm = _only(measure_energy(_Products(), real, b_real), "mm")
    assert (mm.macs, mm.acs) == (12, 0)


class _NeuronProduct(nn.Module):
    """One product ``op`` in a model whose neurons emit counts 0..2 (larger integers are values)."""

    def __init__(self, op: nn.Module):
        super().__init__()
        self.neuron = IMLSNeuron(levels=2)
        self.op = op

    def forward(self, a, b):
        return self.op(a, b)


def test_integer_scores_times_spikes_cost_one_ac_per_spike_and_row():
    scores = torch.tensor([[3.0, 0.0], [1.0, 5.0]])  # raw Q K^T counts, above the levels
    v = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])  # 4 spikes, each reaches 2 rows
    mm = _only(measure_energy(_NeuronProduct(MatMul()), scores, v), "op")
    assert (mm.input, mm.acs, mm.macs) == ("binary", 4 * 2, 0)  # not sum(s v) = 18
    counts = torch.tensor([[2.0, 0.0], [1.0, 1.0]])  # within the levels: spikes, pairs count
    mm = _only(measure_energy(_NeuronProduct(MatMul()), counts, v), "op")
    assert (mm.input, mm.acs) == ("multilevel", (2 + 1) * 2 + 1 * 2)


def test_spike_times_spike_gate_counts_coinciding_pairs():
    k = torch.tensor([[2.0, 0.0, 1.0, 1.0]])
    v = torch.tensor([[1.0, 2.0, 2.0, 0.0]])
    gate = _only(measure_energy(_NeuronProduct(ElementwiseMul()), k, v), "op")
    assert (gate.input, gate.acs, gate.macs) == ("multilevel", 2 * 1 + 1 * 2, 0)  # not sum k = 4
    k, v = torch.tensor([[1.0, 1.0, 0.0]]), torch.tensor([[1.0, 0.0, 1.0]])
    gate = _only(measure_energy(_NeuronProduct(ElementwiseMul()), k, v), "op")
    assert (gate.input, gate.acs) == ("binary", 1)


def test_ssa_charges_its_integer_scores_as_values():
    torch.manual_seed(0)
    enc = fold_for_inference(SpikingEncoder(_small(attention={"heads": 4, "type": "ssa"})))
    av = enc.layers[0].attn.av
    seen = []
    av.register_forward_hook(lambda module, inputs, output: seen.append(inputs))
    x = torch.randn(1, 12, 32)
    entry = _only(measure_energy(enc, x), "layers.0.attn.av")
    (scores, v), = seen
    assert float(scores.max()) > enc.layers[0].attn.qkv.neuron.max_level  # raw counts
    assert entry.acs == float(v.sum()) * 12 and entry.macs == 0  # each V count reaches L rows


class _Stepped(nn.Module):
    time_steps = 4

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 5)

    def forward(self, x):
        return self.fc(x)


def test_multi_step_layers_compare_against_one_ann_pass():
    x = torch.zeros(4, 1, 2)
    x[0, 0, 0] = x[2, 0, 1] = 1.0
    entry = measure_energy(_Stepped(), x).layers[0]
    assert entry.acs == 2 * 5
    assert entry.ann_macs == 4 * 2 * 5 / 4  # the ANN runs one step


def test_energy_totals_and_json():
    layer = nn.Linear(4, 3)
    report = measure_energy(layer, torch.tensor([[1.0, 0, 1, 0]]), e_mac_pj=4.6, e_ac_pj=0.9)
    assert report.energy_pj == pytest.approx(2 * 3 * 0.9)
    assert report.ann_energy_pj == pytest.approx(12 * 4.6)
    assert report.ann_to_snn_ratio == pytest.approx(12 * 4.6 / (6 * 0.9))
    data = json.loads(report.to_json())
    assert data["total"]["acs"] == 6 and data["layers"][0]["energy_pj"] == pytest.approx(5.4)
    assert "SNN energy" in report.format_table()


def test_counts_accumulate_over_calls_and_hooks_are_removed():
    layer = nn.Linear(2, 2)
    with EnergyMeter(layer) as meter:
        layer(torch.ones(1, 2))
        layer(torch.ones(1, 2))
    layer(torch.ones(1, 2))  # after exit: not counted
    entry = meter.report().layers[0]
    assert (entry.calls, entry.acs) == (2, 8)


def _small(**over):
    base = {"layers": 2, "d_model": 32, "ffn_dim": 64, "attention": {"heads": 4}}
    base.update(over)
    return from_dict(EncoderConfig, base)


@pytest.mark.parametrize("neuron,steps", [("imls", 1), ("lif", 4)])
def test_spiking_encoder_weight_layers_are_all_spike_driven(neuron, steps):
    torch.manual_seed(0)
    enc = fold_for_inference(SpikingEncoder(_small(time_steps=steps, neuron={"type": neuron})))
    report = measure_energy(enc, torch.randn(1, 12, 32))
    for layer in report.layers:
        if layer.name.endswith(("decay_mul", "row_scale_mul")):
            assert layer.input == "real"  # HDM: scores x decay mask, row normalisation
        else:
            assert layer.input in ("binary", "multilevel"), layer.name
            assert layer.macs == 0
    assert report.energy_pj < report.ann_energy_pj
    assert 0 < report.firing_rate < 1


def test_ann_encoder_is_all_macs_and_matches_its_ann_count():
    torch.manual_seed(0)
    report = measure_energy(ANNEncoder(_small()).eval(), torch.randn(1, 12, 32))
    assert report.acs == 0 and report.macs == report.ann_macs
    # q,k,v,o (4 x 12 x 32 x 32) + scores and context (2 x 4 heads x 12 x 12 x 8) + ffn, per layer
    per_layer = 4 * 12 * 32 * 32 + 2 * 4 * 12 * 12 * 8 + 2 * 12 * 32 * 64
    assert report.macs == 2 * per_layer


def _counts(report) -> dict[str, float]:
    """Every count of every layer and neuron, flat (``name.field``)."""
    counts = {f"{e.name}.{field}": getattr(e, field) for e in report.layers
              for field in ("acs", "macs", "ann_macs", "spikes", "slots")}
    counts.update({f"{n.name}.{field}": getattr(n, field) for n in report.neurons
                   for field in ("spikes", "slots")})
    return counts


@pytest.mark.parametrize("over,fold", [
    ({}, True),  # IMLS, HD-RepSSA (decay mask, row scale)
    ({}, False),  # training form: linear + depthwise temporal branches
    ({"time_steps": 4, "neuron": {"type": "lif"}, "attention": {"heads": 4, "type": "stsa"},
      "ffn_kernels": [3, 1]}, True),  # SpikeVoice-like: Conv1d FFN, steps
    ({"causal": True, "attention": {"heads": 4, "type": "sdsa"}, "ffn_kernels": [3, 1]}, False),
    ({"attention": {"heads": 4, "type": "ssa"}}, True),
])
def test_padded_batch_costs_what_its_sequences_cost_alone(over, fold):
    torch.manual_seed(0)
    enc = SpikingEncoder(_small(**over)).eval()
    if fold:
        enc = fold_for_inference(enc)
    x = torch.randn(2, 12, 32)
    x[1, 8:] = 5.0  # padding with activity in it: must not be counted
    with torch.no_grad(), EnergyMeter(enc) as alone:
        enc(x[:1])
        enc(x[1:, :8])
    with torch.no_grad(), EnergyMeter(enc) as padded:
        enc(x, torch.tensor([12, 8]))
    want, got = alone.report(), padded.report()
    assert _counts(got) == pytest.approx(_counts(want))
    assert got.firing_rate == pytest.approx(want.firing_rate)
    assert (got.acs, got.macs, got.ann_macs) == pytest.approx((want.acs, want.macs, want.ann_macs))


def test_padded_batch_in_the_ann_encoder_costs_what_its_sequences_cost_alone():
    torch.manual_seed(0)
    enc = ANNEncoder(_small(ffn_kernels=[3, 1])).eval()
    x = torch.randn(2, 12, 32)
    with torch.no_grad(), EnergyMeter(enc) as alone:
        enc(x[:1])
        enc(x[1:, :8])
    with torch.no_grad(), EnergyMeter(enc) as padded:
        enc(x, torch.tensor([12, 8]))
    assert _counts(padded.report()) == pytest.approx(_counts(alone.report()))
