"""SpikeRecorder: captures one neuron's spikes for rasters, and leaves no hook behind."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _helpers import randomize_bn_affine

from spikespeech.attention import AttentionConfig
from spikespeech.encoder import EncoderConfig, SpikingEncoder
from spikespeech.energy import SpikeRecorder, default_neuron_name, neuron_names, to_raster
from spikespeech.neurons.config import NeuronConfig


def _encoder(neuron: str = "imls", layers: int = 3) -> SpikingEncoder:
    # v_threshold 0.5 keeps the untrained binary network from going silent
    ncfg = (NeuronConfig(type="imls", levels=4) if neuron == "imls"
            else NeuronConfig(type="lif", v_threshold=0.5))
    cfg = EncoderConfig(layers=layers, d_model=16, ffn_dim=32, dropout=0.0,
                        time_steps=1 if neuron == "imls" else 4, neuron=ncfg,
                        attention=AttentionConfig(heads=2, rep_kernel=3))
    model = SpikingEncoder(cfg)
    randomize_bn_affine(model)
    return model.eval()


def _hooks(model: torch.nn.Module) -> int:
    return sum(len(m._forward_hooks) for m in model.modules())


def test_default_neuron_is_first_of_the_middle_block():
    model = _encoder(layers=3)
    assert default_neuron_name(model) == "layers.1.pre_attn_neuron"
    assert neuron_names(model)[0] == "layers.0.pre_attn_neuron"
    stacks = torch.nn.ModuleDict({"encoder": _encoder(layers=2), "decoder": _encoder(layers=4)})
    assert default_neuron_name(stacks) == "decoder.layers.2.pre_attn_neuron"  # the last stack
    with pytest.raises(ValueError, match="no spiking neurons"):
        default_neuron_name(torch.nn.Linear(2, 2))


@pytest.mark.parametrize("neuron,steps,levels", [("imls", 1, 4), ("lif", 4, 1)])
def test_records_what_the_neuron_outputs(neuron, steps, levels):
    model = _encoder(neuron)
    x = torch.randn(2, 9, 16)
    name = "layers.1.pre_attn_neuron"
    seen = []
    handle = dict(model.named_modules())[name].register_forward_hook(lambda m, i, o: seen.append(o.clone()))
    with torch.no_grad():
        model(x)  # the reference: a plain hook's view of the same call
    handle.remove()
    with torch.no_grad(), SpikeRecorder(model, name) as recorder:
        assert recorder.active
        model(x)
    assert not recorder.active and _hooks(model) == 0
    (record,) = recorder.records
    assert record.shape == (steps, 2, 9, 16)
    torch.testing.assert_close(record, seen[0])
    assert record.sum() > 0  # the untrained network does spike
    raster = recorder.raster(batch_index=1)
    assert raster.shape == (16, 9) and raster.dtype == np.float32
    np.testing.assert_allclose(raster, seen[0][:, 1].sum(0).T.numpy())
    assert recorder.max_level == levels * steps and raster.max() <= recorder.max_level


def test_calls_are_joined_along_frames_and_hooks_go_even_on_error():
    model = _encoder()
    with torch.no_grad(), SpikeRecorder(model) as recorder:
        model(torch.randn(1, 5, 16))
        model(torch.randn(1, 7, 16))
    assert recorder.raster().shape == (16, 12)
    with pytest.raises(ValueError), SpikeRecorder(model):
        model(torch.randn(5, 16))  # wrong rank: the forward pass raises
    assert _hooks(model) == 0


def test_another_model_is_untouched():
    watched, other = _encoder(), _encoder()
    with torch.no_grad(), SpikeRecorder(watched) as recorder:
        other(torch.randn(1, 6, 16))
        assert _hooks(other) == 0
    assert recorder.records == [] and recorder.raster().shape == (0, 0)


def test_bad_names_and_layouts():
    model = _encoder()
    with pytest.raises(ValueError, match="no module named"):
        SpikeRecorder(model, "layers.9.pre_attn_neuron")
    with pytest.raises(ValueError, match="not a spiking neuron"):
        SpikeRecorder(model, "layers.0.ffn.fc1")
    with pytest.raises(ValueError, match="expected"):
        to_raster(torch.zeros(3))
    np.testing.assert_array_equal(to_raster(torch.ones(4, 3)), np.ones((3, 4), dtype=np.float32))
