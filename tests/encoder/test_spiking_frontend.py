"""The spike-driven front-end (input_layer spiking_conv2d …): ESPnet's subsampling shapes, only
the first layer on real values, padding-invariant, and what it does to the energy."""

from __future__ import annotations

import pytest
import torch

from spikespeech.encoder.subsampling import LAYOUTS, SpikingConvSubsampling
from spikespeech.energy import measure_energy
from spikespeech.neurons.config import NeuronConfig

IMLS = NeuronConfig(type="imls", levels=4)

pytest.importorskip("espnet2")
from espnet.nets.pytorch_backend.transformer.subsampling import (  # noqa: E402
    Conv2dSubsampling,
    Conv2dSubsampling2,
    Conv2dSubsampling6,
    Conv2dSubsampling8,
    TooShortUttError,
)

from spikespeech.espnet import IMLSpikeformerEncoder  # noqa: E402

ESPNET = {"conv2d": Conv2dSubsampling, "conv2d2": Conv2dSubsampling2, "conv2d6": Conv2dSubsampling6,
          "conv2d8": Conv2dSubsampling8}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_same_shapes_as_espnets_subsampling(layout):
    torch.manual_seed(0)
    ours = SpikingConvSubsampling(80, 16, layout, IMLS).eval()
    theirs = ESPNET[layout](80, 16, 0.0).eval()
    linear = theirs.out[0] if isinstance(theirs.out, torch.nn.Sequential) else theirs.out
    assert ours.out.in_features == linear.in_features  # the same frequency reduction
    for frames in (ours.min_frames(), ours.min_frames() + 1, 57, 100):
        x = torch.randn(1, frames, 80)
        out, lengths = ours(x, torch.tensor([frames]))
        expected, _ = theirs(x, torch.ones(1, 1, frames, dtype=torch.bool))
        assert out.shape == expected.shape and lengths.item() == out.shape[1] >= 1
    with pytest.raises(RuntimeError):  # one frame fewer is too short for the convolutions
        ours(torch.randn(1, ours.min_frames() - 1, 80), torch.tensor([ours.min_frames() - 1]))


@pytest.mark.parametrize("neuron,steps", [(IMLS, 1), (NeuronConfig(type="lif"), 4)])
def test_padding_never_changes_valid_outputs(neuron, steps):
    torch.manual_seed(1)
    frontend = SpikingConvSubsampling(40, 16, "conv2d", neuron, time_steps=steps)
    x = torch.randn(3, 90, 40)
    lengths = torch.tensor([90, 61, 33])
    frontend(x, lengths)  # a training step: BN statistics over valid frames only
    frontend.eval()
    batch, out_lengths = frontend(x, lengths)
    for i, n in enumerate(lengths.tolist()):
        alone, alone_len = frontend(x[i:i + 1, :n], lengths[i:i + 1])
        assert alone_len.item() == out_lengths[i].item()
        torch.testing.assert_close(batch[i, : alone_len.item()], alone[0], atol=1e-5, rtol=1e-5)


def test_only_the_first_layer_sees_real_values():
    torch.manual_seed(2)
    frontend = SpikingConvSubsampling(80, 32, "conv2d", IMLS).eval()
    report = measure_energy(frontend, torch.randn(1, 120, 80), torch.tensor([120]))
    first, *rest = report.layers
    assert first.name == "convs.0" and first.input == "real" and first.acs == 0
    assert [layer.name for layer in rest] == ["convs.1", "out"]
    assert all(layer.input in ("binary", "multilevel") and layer.macs == 0 for layer in rest)
    # the dense ANN counterpart of the spiking layers costs far more than the whole front-end
    assert report.ann_to_snn_ratio > 2.0


def test_espnet_encoder_with_the_spiking_front_end():
    torch.manual_seed(3)
    enc = IMLSpikeformerEncoder(80, output_size=32, attention_heads=4, linear_units=64, num_blocks=2,
                                input_layer="spiking_conv2d").eval()
    x, lengths = torch.randn(2, 100, 80), torch.tensor([100, 57])
    out, olens, _ = enc(x, lengths)
    assert olens.tolist() == (((lengths - 1) // 2 - 1) // 2).tolist()  # as ESPnet's conv2d
    assert out.shape == (2, olens.max().item(), 32)
    alone, _, _ = enc(x[1:, :57], lengths[1:])
    torch.testing.assert_close(out[1, : olens[1]], alone[0], atol=1e-5, rtol=1e-5)
    assert enc.min_frames() == 7
    with pytest.raises(TooShortUttError):
        enc(torch.randn(1, 6, 80), torch.tensor([6]))
    report = measure_energy(enc, torch.randn(1, 120, 80), torch.tensor([120]))
    real = [layer.name for layer in report.layers if layer.input == "real" and layer.op in ("linear", "conv")]
    assert real == ["embed.convs.0"]  # the encoding layer is the only weight layer on real values


def test_unknown_input_layer_names_the_choices():
    from spikespeech.config import ConfigError

    with pytest.raises(ConfigError, match="spiking_conv2d6"):
        IMLSpikeformerEncoder(80, output_size=32, attention_heads=4, input_layer="spiking_conv3d")
