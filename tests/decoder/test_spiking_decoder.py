"""The spiking attention decoder (pure torch): incremental decoding equals the full pass,
causality, padding invariance, the folded inference form, config checks."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from spikespeech.attention.config import DecayConfig
from spikespeech.attention.hdm import HierarchicalDecayMask
from spikespeech.config import ConfigError, from_dict
from spikespeech.decoder import DecoderConfig, SpikingDecoder, select_state, stack_states
from spikespeech.energy import EnergyMeter, measure_energy
from spikespeech.layers import fold_for_inference

VARIANTS = [("hd_repssa", 0, "imls"), ("hd_repssa", 3, "imls"), ("ssa", 0, "imls"),
            ("hd_repssa", 0, "lif"), ("hd_repssa", 3, "lif")]


def _decoder(attention: str = "hd_repssa", rep_kernel: int = 0, neuron: str = "imls", **kw) -> SpikingDecoder:
    cfg = from_dict(DecoderConfig, {"layers": 2, "d_model": 32, "ffn_dim": 64, "dropout": 0.0,
                                    "time_steps": 1 if neuron == "imls" else 4, "neuron": {"type": neuron},
                                    "attention": {"type": attention, "rep_kernel": rep_kernel, "heads": 4},
                                    **kw}, where="test")
    torch.manual_seed(0)
    decoder = SpikingDecoder(cfg)
    # one training step, so that BN statistics and weights are not at their initial values
    x, memory = torch.randn(3, 7, 32), torch.randn(3, 11, 32)
    with torch.enable_grad():
        decoder(x, torch.tensor([7, 5, 3]), memory, torch.tensor([11, 9, 6])).square().sum().backward()
    return decoder.eval()


def _inputs(batch: int = 3, tokens: int = 7, frames: int = 11):
    torch.manual_seed(1)
    return torch.randn(batch, tokens, 32) * 2, torch.randn(batch, frames, 32) * 2


def _steps(decoder: SpikingDecoder, x: torch.Tensor, memory: torch.Tensor, lengths=None) -> torch.Tensor:
    state = decoder.init_state(memory, lengths)
    outs = []
    for t in range(x.shape[1]):
        y, state = decoder.step(x[:, t:t + 1], state)
        outs.append(y)
    return torch.cat(outs, 1)


@pytest.mark.parametrize("attention,rep_kernel,neuron", VARIANTS)
@torch.no_grad()
def test_incremental_steps_equal_the_full_pass(attention, rep_kernel, neuron):
    decoder = _decoder(attention, rep_kernel, neuron)
    x, memory = _inputs()
    full = decoder(x, None, memory)
    assert full.abs().sum() > 0  # the neurons fire
    torch.testing.assert_close(_steps(decoder, x, memory), full, rtol=0, atol=1e-6)


@torch.no_grad()
def test_steps_over_padded_memory_equal_the_full_pass():
    decoder = _decoder(rep_kernel=3)
    x, memory = _inputs()
    lengths = torch.tensor([11, 8, 4])
    torch.testing.assert_close(_steps(decoder, x, memory, lengths), decoder(x, None, memory, lengths),
                               rtol=0, atol=1e-6)


@pytest.mark.parametrize("attention,rep_kernel,neuron", VARIANTS[:2] + VARIANTS[3:4])
@torch.no_grad()
def test_padding_changes_no_valid_output(attention, rep_kernel, neuron):
    decoder = _decoder(attention, rep_kernel, neuron)
    x, memory = _inputs()
    padded = decoder(x, torch.tensor([7, 5, 3]), memory, torch.tensor([11, 9, 6]))
    for b, (n, s) in enumerate([(7, 11), (5, 9), (3, 6)]):
        alone = decoder(x[b:b + 1, :n], None, memory[b:b + 1, :s])
        torch.testing.assert_close(padded[b:b + 1, :n], alone, rtol=0, atol=1e-6)
        assert padded[b, n:].abs().sum() == 0


@torch.no_grad()
def test_later_tokens_do_not_change_earlier_outputs():
    decoder = _decoder(rep_kernel=3)
    x, memory = _inputs()
    changed = x.clone()
    changed[:, 4:] = torch.randn_like(changed[:, 4:]) * 5
    a, b = decoder(x, None, memory), decoder(changed, None, memory)
    torch.testing.assert_close(a[:, :4], b[:, :4], rtol=0, atol=0)
    assert not torch.equal(a[:, 4:], b[:, 4:])


@pytest.mark.parametrize("rep_kernel", [0, 3])
@torch.no_grad()
def test_folded_form_decodes_like_the_trained_form(rep_kernel):
    decoder = _decoder(rep_kernel=rep_kernel)
    folded = fold_for_inference(decoder)
    assert not any(type(m).__name__ == "RepProjection" for m in folded.modules())
    x, memory = _inputs()
    trained = decoder(x, None, memory)
    # folding changes float rounding, which can move a value across a spike threshold: compare
    # the outputs token by token and allow rare flips, not a different function
    close = torch.isclose(folded(x, None, memory), trained, atol=1e-4).float().mean()
    assert close > 0.98
    torch.testing.assert_close(_steps(folded, x, memory), folded(x, None, memory), rtol=0, atol=1e-6)


@torch.no_grad()
def test_states_of_single_hypotheses_stack_back_into_the_batch():
    decoder = _decoder(rep_kernel=3)
    x, memory = _inputs()
    state = decoder.init_state(memory)
    for t in range(3):
        _, state = decoder.step(x[:, t:t + 1], state)
    order = [2, 0, 0, 1]  # a beam search reorders and duplicates hypotheses
    reordered = stack_states([select_state(state, i) for i in order])
    y, _ = decoder.step(x[order, 3:4], reordered)
    torch.testing.assert_close(y, decoder(x, None, memory)[order, 3:4], rtol=0, atol=1e-6)


@torch.no_grad()
def test_a_beam_shares_its_utterances_memory_without_copies():
    decoder = _decoder(rep_kernel=3)
    x, memory = _inputs(batch=1)
    state = decoder.init_state(memory)
    _, state = decoder.step(x[:, :1], state)
    beam = stack_states([select_state(state, 0) for _ in range(4)])  # one hypothesis, 4 extensions
    assert beam["mem_k.0"] is state["mem_k.0"] and beam["mem_k.0"].shape[1] == 1
    assert beam["self_k.0"].shape[1] == 4
    tokens = x[:, 1:2].expand(4, -1, -1) + torch.randn(4, 1, 32)  # each hypothesis its own token
    copied = {name: t.expand(-1, 4, *t.shape[2:]).contiguous() if name.startswith("mem_") else t
              for name, t in beam.items()}
    with EnergyMeter(decoder) as shared_meter:
        y, _ = decoder.step(tokens, beam)
    with EnergyMeter(decoder) as copied_meter:
        y_copied, _ = decoder.step(tokens, copied)
    full = decoder(torch.cat([x[:, :1].expand(4, -1, -1), tokens], 1), None, memory.expand(4, -1, -1))
    torch.testing.assert_close(y, full[:, 1:], rtol=0, atol=1e-6)
    torch.testing.assert_close(y_copied, y, rtol=0, atol=0)
    # the meter counts a broadcast memory as the copies it stands for
    shared, copied = ([(x.macs, x.acs, x.ann_macs) for x in meter.report().layers]
                      for meter in (shared_meter, copied_meter))
    assert shared == copied


def test_every_parameter_learns():
    decoder = _decoder(rep_kernel=3).train()
    decoder.zero_grad()
    x, memory = _inputs()
    decoder(x, torch.tensor([7, 5, 3]), memory, torch.tensor([11, 9, 6])).square().sum().backward()
    silent = [n for n, p in decoder.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert silent == []


@torch.no_grad()
def test_every_weight_layer_and_product_sees_spikes():
    decoder = _decoder()
    x, memory = _inputs()
    report = measure_energy(decoder, x, None, memory)
    # the decay mask's and its row scale's products are real multiplies, as in the encoder
    macs = [layer.name for layer in report.layers if layer.macs > 0]
    assert macs and all(name.endswith(("decay_mul", "row_scale_mul")) for name in macs), macs
    assert {layer.op for layer in report.layers if layer.acs > 0} == {"linear", "matmul"}


@pytest.mark.parametrize("exponent_range", [(2.0, 6.0), (1.0, 1.0)])
def test_decay_mask_last_row_is_the_last_row_of_the_mask(exponent_range):
    hdm = HierarchicalDecayMask(1, 3, 4, DecayConfig(exponent_range=exponent_range), causal=True)
    decay, row_scale = hdm.factors(9)
    last_decay, last_scale = hdm.last_row(9)
    torch.testing.assert_close(last_decay, decay[..., -1:, :])
    torch.testing.assert_close(last_scale, row_scale[..., -1:, :])
    with pytest.raises(RuntimeError, match="causal"):
        HierarchicalDecayMask(1, 3, 4, DecayConfig()).last_row(9)


def test_the_decoders_attention_defaults_hold_when_a_yaml_names_other_fields():
    # a YAML's attention mapping builds the decoder's attention config, with its own defaults
    cfg = from_dict(DecoderConfig, {"d_model": 32, "attention": {"heads": 2, "type": "ssa"}}, where="test")
    assert cfg.attention.rep_kernel == 0 and cfg.attention.heads == 2
    assert DecoderConfig().attention.rep_kernel == 0


@pytest.mark.parametrize("field,value,message", [
    ("attention", {"type": "sdsa"}, "attention.type must be one of hd_repssa, ssa"),
    ("attention", {"temporal": "sdsa_steps"}, "attention.temporal must be 'none'"),
    ("attention", {"heads": 5}, "not divisible by attention.heads"),
    ("time_steps", 0, "time_steps must be >= 1"),
])
def test_config_errors_name_the_field(field, value, message):
    with pytest.raises(ConfigError, match=message):
        from_dict(DecoderConfig, {"d_model": 32, field: value}, where="test")


def test_the_core_decoder_imports_nothing_of_espnet():
    code = "import sys, spikespeech.decoder; print(any(m.startswith('espnet') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"]
