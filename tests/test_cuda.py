"""The pure-torch core on CUDA: same outputs and gradients as on the CPU, training steps,
neuron state on the device, reparameterisation, padding and the energy meter.

Every test is skipped when CUDA is not available, so the CPU suite only collects them. On a
machine with a GPU (and no ESPnet, librosa or soundfile) run them without the suite's
conftest, which pulls in the ESPnet packs::

    PYTHONPATH=.:tests python3 -m pytest --noconftest -p no:cacheprovider tests/test_cuda.py

This module therefore seeds itself and imports only torch, the pure-torch packages of
``spikespeech`` and the helpers of the CPU tests. ``SPIKESPEECH_TEST_DEVICE=cpu`` runs the same
tests with the CPU standing in for the GPU: a dry run of the test code itself (the device
comparisons are then trivially equal), for machines without a GPU. ``SPIKESPEECH_REQUIRE_CUDA=1``
turns the skip into a failure (on the GPU machine, skipping would hide a broken CUDA setup).

Comparisons with the CPU run in float64, where the two devices' rounding differences (~1e-16)
cannot flip a spike, so spiking outputs must agree to float64 tolerance; TF32 is turned off
for the module so that float32 checks are not blurred by it either.
"""

from __future__ import annotations

import copy
import dataclasses as dc
import os
from pathlib import Path

import pytest
import torch
from _helpers import is_spike_tensor, randomize_bn_affine
from _tts_helpers import N_MELS, VOCAB, prepared_model, random_batch, shrink

from spikespeech.encoder import (
    EncoderConfig,
    SpikingEncoder,
    build_encoder,
    load_encoder_config,
    make_pad_mask,
)
from spikespeech.energy import EnergyMeter, measure_energy
from spikespeech.layers import fold_for_inference
from spikespeech.neurons import IMLSNeuron, MultiStepLIF, reset_states
from spikespeech.tts import SpikeVoice, load_tts_config

DEVICE = torch.device(os.environ.get("SPIKESPEECH_TEST_DEVICE", "cuda"))
CPU = torch.device("cpu")
DT = torch.float64
CONF = Path(__file__).resolve().parents[1] / "spikespeech" / "conf"
# the shipped encoder configs: IMLS + HD-RepSSA, LIF T=4 + HD-RepSSA, SpikeVoice's LIF + STSA
ENCODER_CONFIGS = ("iml_spikeformer_small", "lif_t4_small", "spikevoice_stsa")
B, L, LENGTHS = 3, 24, (24, 17, 6)

NO_CUDA = DEVICE.type == "cuda" and not torch.cuda.is_available()
if NO_CUDA and os.environ.get("SPIKESPEECH_REQUIRE_CUDA") == "1":  # bench/gpu_check.sh sets it
    pytest.fail("SPIKESPEECH_REQUIRE_CUDA=1 but torch.cuda.is_available() is False", pytrace=False)
pytestmark = pytest.mark.skipif(
    NO_CUDA, reason="CUDA is not available (torch.cuda.is_available() is False); these tests need a GPU"
)


@pytest.fixture(autouse=True)
def _seed_and_no_tf32():
    """Own seeding (the suite's conftest may be off) and full-precision float32 on CUDA."""
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    torch.manual_seed(0)
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


# ---- helpers --------------------------------------------------------------------------------
def encoder_config(name: str, **overrides) -> EncoderConfig:
    """A shipped encoder config (``spikespeech/conf/encoder/<name>.yaml``), fields overridden."""
    return dc.replace(load_encoder_config(CONF / "encoder" / f"{name}.yaml"), **overrides)


def prepared_encoder(name: str, kind: str = "spiking", dtype=DT) -> torch.nn.Module:
    """A CPU eval-mode encoder with BN running statistics from a few training batches and
    random BN affine parameters (positive shifts keep the untrained binary network firing)."""
    torch.manual_seed(0)
    model = build_encoder(encoder_config(name), kind).to(dtype).train()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(B, L, d_model(name), generator=g, dtype=dtype), torch.tensor(LENGTHS))
    randomize_bn_affine(model)
    return model.eval()


def d_model(name: str) -> int:
    return encoder_config(name).d_model


def inputs(name: str, seed: int = 0, dtype=DT) -> tuple[torch.Tensor, torch.Tensor]:
    """CPU ``x (B, L, d)`` with large garbage at the padded frames, and ``lengths (B,)``."""
    g = torch.Generator().manual_seed(seed)
    lengths = torch.tensor(LENGTHS)
    x = torch.randn(B, L, d_model(name), generator=g, dtype=dtype)
    garbage = 50.0 * torch.randn(B, L, d_model(name), generator=g, dtype=dtype) + 20.0
    return torch.where(make_pad_mask(lengths, L)[..., None], x, garbage), lengths


def on(device: torch.device, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
    return tuple(t.to(device) for t in tensors)


def assert_informative(out: torch.Tensor) -> None:
    """Not silent and not constant over the valid frames (else the comparison proves little)."""
    valid = torch.cat([out[i, :n] for i, n in enumerate(LENGTHS)])
    assert valid.abs().sum() > 0 and valid.std(0).max() > 1e-3


def assert_on_device(module: torch.nn.Module, device: torch.device = DEVICE) -> None:
    for name, t in [*module.named_parameters(), *module.named_buffers()]:
        assert t.device.type == device.type, f"{name} is on {t.device}"


def assert_finite_grads_on_device(module: torch.nn.Module) -> None:
    grads = {n: p.grad for n, p in module.named_parameters() if p.requires_grad}
    missing = [n for n, g in grads.items() if g is None]
    assert not missing, f"no gradient for {missing[:5]}"
    for name, grad in grads.items():
        assert grad.device.type == DEVICE.type, f"{name}.grad is on {grad.device}"
        assert torch.isfinite(grad).all(), f"{name}.grad is not finite"
    assert sum(float(g.abs().sum()) for g in grads.values()) > 0


def batch_to(batch: dict, device: torch.device) -> dict:
    return {k: v.to(device) for k, v in batch.items()}


# ---- encoders: CUDA equals CPU ----------------------------------------------------------------
@pytest.mark.parametrize("kind", ["spiking", "ann"])
@pytest.mark.parametrize("name", ENCODER_CONFIGS)
def test_encoder_eval_output_matches_cpu(name, kind):
    cpu_model = prepared_encoder(name, kind)
    x, lengths = inputs(name)
    with torch.no_grad():
        expected = cpu_model(x, lengths)
        model = copy.deepcopy(cpu_model).to(DEVICE)
        got = model(*on(DEVICE, x, lengths))
    assert got.device.type == DEVICE.type
    assert_informative(expected)
    cfg = encoder_config(name)
    if kind == "spiking" and cfg.output == "spikes":  # spike counts averaged over T steps
        levels = cfg.neuron.levels if cfg.neuron.type == "imls" else 1
        assert is_spike_tensor(got.cpu() * cfg.time_steps, levels * cfg.time_steps)
    torch.testing.assert_close(got.cpu(), expected)


@pytest.mark.parametrize("kind", ["spiking", "ann"])
@pytest.mark.parametrize("name", ("iml_spikeformer_small", "lif_t4_small"))
def test_encoder_training_gradients_match_cpu(name, kind):
    """Training mode (batch statistics in BN, surrogate gradients), dropout off: the same loss
    and parameter gradients on both devices."""
    torch.manual_seed(0)
    cpu_model = build_encoder(encoder_config(name, dropout=0.0), kind).to(DT).train()
    randomize_bn_affine(cpu_model)
    model = copy.deepcopy(cpu_model).to(DEVICE)
    x, lengths = inputs(name)
    losses = []
    for net, device in ((cpu_model, CPU), (model, DEVICE)):
        loss = net(*on(device, x, lengths)).square().mean()
        loss.backward()
        losses.append(loss.detach().cpu())
    torch.testing.assert_close(losses[1], losses[0])
    assert_finite_grads_on_device(model)
    for (name_p, p_cpu), p_dev in zip(cpu_model.named_parameters(), model.parameters(), strict=True):
        torch.testing.assert_close(p_dev.grad.cpu(), p_cpu.grad, msg=lambda m, n=name_p: f"{n}: {m}")


@pytest.mark.parametrize("kind", ["spiking", "ann"])
@pytest.mark.parametrize("name", ENCODER_CONFIGS)
def test_encoder_float32_training_step_runs_on_device(name, kind):
    """The shipped configs as they train: float32, dropout on, ragged batch, an Adam step."""
    torch.manual_seed(0)
    model = build_encoder(encoder_config(name), kind).to(DEVICE).train()
    x, lengths = on(DEVICE, *inputs(name, dtype=torch.float32))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    before = [p.detach().clone() for p in model.parameters()]
    out = model(x, lengths)
    assert out.device.type == DEVICE.type and torch.isfinite(out).all()
    loss = out.square().mean()
    loss.backward()
    assert torch.isfinite(loss)
    assert_finite_grads_on_device(model)
    opt.step()
    changed = sum(not torch.equal(a, p) for a, p in zip(before, model.parameters(), strict=True))
    assert changed >= len(before) // 2
    assert_on_device(model)


# ---- neuron state, reparameterisation, padding ----------------------------------------------
def test_lif_state_stays_on_device_and_chunks_equal_one_call():
    g = torch.Generator().manual_seed(3)
    x1, x2 = 1.2 * torch.randn(3, 2, 8, generator=g), 1.2 * torch.randn(4, 2, 8, generator=g)
    whole = MultiStepLIF(stateful=True).to(DEVICE)
    chunked = MultiStepLIF(stateful=True).to(DEVICE)
    y_all = whole(torch.cat([x1, x2]).to(DEVICE))
    y = torch.cat([chunked(x1.to(DEVICE)), chunked(x2.to(DEVICE))])
    assert chunked.v.device.type == DEVICE.type and y.device.type == DEVICE.type
    assert torch.equal(y, y_all)
    torch.testing.assert_close(chunked.v, whole.v)
    torch.testing.assert_close(y_all.cpu(), MultiStepLIF()(torch.cat([x1, x2])))
    reset_states(chunked)
    assert chunked.v is None


@pytest.mark.parametrize("name", ("lif_t4_small", "spikevoice_stsa"))
def test_stateful_encoder_neurons_keep_state_on_device(name):
    """Every LIF neuron of an encoder made stateful carries its membrane on the device."""
    model = prepared_encoder(name).to(DEVICE)
    neurons = [m for m in model.modules() if isinstance(m, MultiStepLIF)]  # the neurons with state
    assert neurons
    for neuron in neurons:
        neuron.stateful = True
    x, lengths = on(DEVICE, *inputs(name))
    with torch.no_grad():
        model(x, lengths)
    assert all(n.v is not None and n.v.device.type == DEVICE.type for n in neurons)
    reset_states(model)
    assert all(n.v is None for n in neurons)


def test_imls_neuron_on_device_matches_cpu():
    neuron = IMLSNeuron(levels=4)
    x = (3.0 * torch.randn(2, 5, 16, dtype=DT)).requires_grad_()
    dev_neuron = copy.deepcopy(neuron).to(DEVICE).to(DT)
    x_dev = x.detach().to(DEVICE).requires_grad_()
    expected, got = neuron.to(DT)(x), dev_neuron(x_dev)
    assert is_spike_tensor(got.detach().cpu(), 4)
    torch.testing.assert_close(got.detach().cpu(), expected.detach())
    got.square().sum().backward()
    expected.square().sum().backward()
    torch.testing.assert_close(x_dev.grad.cpu(), x.grad)
    assert_on_device(dev_neuron)


@pytest.mark.parametrize("name", ENCODER_CONFIGS)
def test_folded_encoder_equals_trained_form_on_device(name):
    model = prepared_encoder(name).to(DEVICE)
    assert isinstance(model, SpikingEncoder)
    x, lengths = on(DEVICE, *inputs(name))
    with torch.no_grad():
        trained = model(x, lengths)
        model = fold_for_inference(model)
        folded = model(x, lengths)
    assert_on_device(model)
    assert_informative(trained.cpu())
    torch.testing.assert_close(folded, trained)


@pytest.mark.parametrize("kind", ["spiking", "ann"])
@pytest.mark.parametrize("name", ENCODER_CONFIGS)
def test_padding_does_not_change_outputs_on_device(name, kind):
    model = prepared_encoder(name, kind).to(DEVICE)
    x, lengths = on(DEVICE, *inputs(name))
    with torch.no_grad():
        padded = model(x, lengths)
        for i, n in enumerate(LENGTHS):
            assert bool((padded[i, n:] == 0).all()) or kind == "ann", f"padded frames of {i}"
            alone = model(x[i : i + 1, :n], lengths[i : i + 1])
            torch.testing.assert_close(alone[0], padded[i, :n], msg=lambda m, i=i: f"seq {i}: {m}")
    assert_informative(padded.cpu())


# ---- SpikeVoice TTS ---------------------------------------------------------------------------
def tts_config(backbone: str = "spiking", name: str = "small"):
    """``conf/tts/<name>.yaml`` (``small``: the spike-driven variant; ``spikevoice_small``: as
    published); ``backbone="ann"`` is its ANN twin (same shapes, spikes off)."""
    return dc.replace(load_tts_config(CONF / "tts" / f"{name}.yaml"), backbone=backbone)


# the spike-driven variant (and its ANN twin), and the variant as published
VARIANTS = [("small", "spiking"), ("small", "ann"), ("spikevoice_small", "spiking")]


@pytest.mark.parametrize(("name", "backbone"), VARIANTS)
def test_spikevoice_eval_outputs_match_cpu(name, backbone):
    cpu_model = prepared_model(tts_config(backbone, name), dtype=DT)
    model = copy.deepcopy(cpu_model).to(DEVICE)
    batch = random_batch(dtype=DT)
    tokens = torch.tensor([1, 4, 2, 7, 3, 9])
    with torch.no_grad():
        expected = cpu_model(**batch)  # learned aligner: MAS on the soft alignment
        got = model(**batch_to(batch, DEVICE))
    assert got.mel_post.device.type == DEVICE.type
    assert torch.equal(got.durations.cpu(), expected.durations)
    for field in ("mel", "mel_post", "soft_alignment", "log_duration", "pitch", "energy"):
        torch.testing.assert_close(getattr(got, field).cpu(), getattr(expected, field),
                                   msg=lambda m, f=field: f"{f}: {m}")
    for key, value in expected.losses.items():
        torch.testing.assert_close(got.losses[key].cpu(), value, msg=lambda m, k=key: f"{k}: {m}")
    assert float(expected.mel[0].std(0).mean()) > 0.01  # the mel varies over frames
    ref, out = cpu_model.infer(tokens), model.infer(tokens.to(DEVICE))
    assert torch.equal(out["durations"].cpu(), ref["durations"])
    torch.testing.assert_close(out["mel"].cpu(), ref["mel"])


@pytest.mark.parametrize(("name", "backbone"), VARIANTS)
def test_spikevoice_training_step_on_device(name, backbone):
    torch.manual_seed(0)
    model = SpikeVoice(VOCAB, N_MELS, tts_config(backbone, name)).to(DEVICE).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    out = model(**batch_to(random_batch(), DEVICE))
    assert torch.isfinite(out.loss) and all(torch.isfinite(v) for v in out.losses.values())
    assert out.mel_post.device.type == DEVICE.type and out.durations.device.type == DEVICE.type
    out.loss.backward()
    assert_finite_grads_on_device(model)
    assert model.embed.weight.grad.abs().sum() > 0
    opt.step()
    assert_on_device(model)
    assert int(model.train_step) == 1


@pytest.mark.parametrize("name", ["small", "spikevoice_small"])
def test_spikevoice_training_gradients_match_cpu(name):
    """Test-size SpikeVoice (the config's neurons and attention, dropout off): same loss and
    gradients on both devices, learned aligner included."""
    torch.manual_seed(0)
    cpu_model = SpikeVoice(VOCAB, N_MELS, shrink(tts_config(name=name))).to(DT).train()
    randomize_bn_affine(cpu_model)
    model = copy.deepcopy(cpu_model).to(DEVICE)
    batch = random_batch(dtype=DT)
    outs = []
    for net, device in ((cpu_model, CPU), (model, DEVICE)):
        out = net(**batch_to(batch, device))
        out.loss.backward()
        outs.append(out)
    torch.testing.assert_close(outs[1].loss.detach().cpu(), outs[0].loss.detach())
    assert torch.equal(outs[1].durations.cpu(), outs[0].durations)
    for (name, p_cpu), p_dev in zip(cpu_model.named_parameters(), model.parameters(), strict=True):
        if p_cpu.grad is None:
            assert p_dev.grad is None, name
        else:
            torch.testing.assert_close(p_dev.grad.cpu(), p_cpu.grad, msg=lambda m, n=name: f"{n}: {m}")


@pytest.mark.parametrize(("name", "backbone"), VARIANTS)
def test_spikevoice_folding_on_device(name, backbone):
    model = prepared_model(tts_config(backbone, name), dtype=DT).to(DEVICE)
    tokens = torch.tensor([1, 4, 2, 7, 3], device=DEVICE)
    before = model.infer(tokens)
    model = fold_for_inference(model)
    after = model.infer(tokens)
    assert_on_device(model)
    assert torch.equal(after["durations"], before["durations"])
    torch.testing.assert_close(after["mel"], before["mel"])


# ---- energy meter ---------------------------------------------------------------------------
def report_counts(report) -> list[tuple]:
    return [(x.name, x.op, x.input, x.macs, x.acs, x.ann_macs, x.spikes, x.slots, x.calls)
            for x in report.layers]


def test_energy_meter_on_device_matches_cpu():
    cpu_model = prepared_model(tts_config(), dtype=DT)
    model = copy.deepcopy(cpu_model).to(DEVICE)
    tokens = torch.tensor([1, 4, 2, 7, 3])
    reports = []
    for net, device in ((cpu_model, CPU), (model, DEVICE)):
        with EnergyMeter(net) as meter:
            net.infer(tokens.to(device))
        reports.append(meter.report())
    expected, got = reports
    assert len(expected.layers) >= 10 and expected.acs > 0
    assert [r[:3] for r in report_counts(got)] == [r[:3] for r in report_counts(expected)]
    for a, b in zip(report_counts(got), report_counts(expected), strict=True):
        assert a[3:] == pytest.approx(b[3:], rel=1e-9), a[0]
    assert got.energy_pj == pytest.approx(expected.energy_pj, rel=1e-9)
    assert [(n.name, n.slots) for n in got.neurons] == [(n.name, n.slots) for n in expected.neurons]
    assert [n.spikes for n in got.neurons] == pytest.approx([n.spikes for n in expected.neurons],
                                                            rel=1e-9)


@pytest.mark.parametrize("name", ("iml_spikeformer_small", "lif_t4_small"))
def test_measure_energy_of_encoder_on_device(name):
    cpu_model = prepared_encoder(name)
    model = copy.deepcopy(cpu_model).to(DEVICE)
    x, lengths = inputs(name)
    expected = measure_energy(cpu_model, x, lengths)
    got = measure_energy(model, *on(DEVICE, x, lengths))
    assert got.acs > 0 and got.energy_pj < got.ann_macs * got.e_mac_pj  # spikes save energy
    assert got.acs == pytest.approx(expected.acs, rel=1e-9)
    assert got.macs == pytest.approx(expected.macs, rel=1e-9)
    assert got.energy_pj == pytest.approx(expected.energy_pj, rel=1e-9)



def test_transcriber_decodes_and_streams_on_the_device():
    """The shipped model on the device: whole and streamed decoding give the CPU's text."""
    import numpy as np
    import soundfile as sf
    from _helpers import shared_data

    from spikespeech.inference import Transcriber

    wavs = sorted((shared_data("fsdd") / "recordings").glob("*_jackson_0.wav"))[:3]
    audio = np.concatenate([np.concatenate([sf.read(w, dtype="float32")[0], np.zeros(5600, np.float32)])
                            for w in wavs])
    with Transcriber(device=DEVICE.type) as on_device, Transcriber() as on_cpu:
        assert next(on_device.speech2text.asr_model.parameters()).device.type == DEVICE.type
        assert on_device.transcribe(audio).text == on_cpu.transcribe(audio).text
        streamed = on_device.transcribe_stream(audio)
        assert streamed.text == on_cpu.transcribe_stream(audio).text
        assert len(streamed.segments) == len(wavs)


@torch.no_grad()
def test_spiking_decoder_on_device_matches_cpu_and_decodes_incrementally():
    from spikespeech.config import from_dict
    from spikespeech.decoder import DecoderConfig, SpikingDecoder

    cfg = from_dict(DecoderConfig, {"layers": 2, "d_model": 32, "ffn_dim": 64, "dropout": 0.0,
                                    "attention": {"heads": 4, "rep_kernel": 3}}, where="test")
    decoder = SpikingDecoder(cfg).to(DT)
    randomize_bn_affine(decoder)
    decoder.eval()
    x, memory = 2 * torch.randn(B, 7, 32, dtype=DT), 2 * torch.randn(B, L, 32, dtype=DT)
    lengths = torch.tensor(LENGTHS)
    expected = decoder(x, None, memory, lengths)
    on_device = copy.deepcopy(decoder).to(DEVICE)
    got = on_device(x.to(DEVICE), None, memory.to(DEVICE), lengths.to(DEVICE))
    torch.testing.assert_close(got.cpu(), expected)
    state, steps = on_device.init_state(memory.to(DEVICE), lengths.to(DEVICE)), []
    for t in range(x.shape[1]):
        y, state = on_device.step(x[:, t:t + 1].to(DEVICE), state)
        steps.append(y)
    torch.testing.assert_close(torch.cat(steps, 1).cpu(), expected)
    assert_on_device(on_device)
