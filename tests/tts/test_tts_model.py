"""SpikeVoice TTS model: shapes and losses, padding invariance, the learned aligner (MAS,
prior, forward-sum), length regulation, reparameterisation, the ANN and IMLS variants,
inference speed control, the full-size parameter count and an overfit run on real speech."""

from __future__ import annotations

import dataclasses as dc
import itertools
import math

import pytest
import torch
from _helpers import shared_data
from _tts_helpers import CONF, DT, N_MELS, VOCAB, prepared_model, random_batch, shrink, tiny_config
from hypothesis import given, settings
from hypothesis import strategies as st

from spikespeech.config import ConfigError, from_dict
from spikespeech.encoder import ANNEncoder, SpikingEncoder
from spikespeech.energy import EnergyMeter
from spikespeech.layers import fold_for_inference
from spikespeech.neurons import IMLSNeuron, MultiStepLIF, SpikingNeuron
from spikespeech.tts import (
    ConvStack,
    SpikeVoice,
    SpikeVoiceConfig,
    VarianceConfig,
    average_by_duration,
    beta_binomial_log_prior,
    length_regulate,
    load_tts_config,
    monotonic_alignment_search,
)
from spikespeech.tts.aligner import MASKED_LOGPROB
from spikespeech.tts.losses import binarization_weight


def item(batch: dict, i: int) -> dict:
    t, f = int(batch["token_lengths"][i]), int(batch["mel_lengths"][i])
    out = {k: v[i : i + 1] for k, v in batch.items()}
    out["tokens"], out["mels"] = out["tokens"][:, :t], out["mels"][:, :f]
    out["pitch"], out["energy"] = out["pitch"][:, :f], out["energy"][:, :f]
    return out


# ---- forward, losses, padding ---------------------------------------------------------------
def test_forward_shapes_losses_and_gradients():
    model = SpikeVoice(VOCAB, N_MELS, tiny_config()).train()
    batch = random_batch()
    out = model(**batch)
    B, L = batch["tokens"].shape
    F = batch["mels"].shape[1]
    assert out.mel.shape == out.mel_post.shape == (B, F, N_MELS)
    assert out.durations.shape == (B, L) and out.durations.dtype == torch.long
    assert out.soft_alignment.shape == (B, F, L)
    assert set(out.losses) == {"mel_l1", "postnet_l1", "duration_mse", "pitch_mse", "energy_mse",
                               "forward_sum", "binarization"}
    assert all(v.dim() == 0 and torch.isfinite(v) for v in out.losses.values())
    assert all(float(v.detach()) > 0 for v in out.losses.values())
    assert torch.isfinite(out.loss)
    # padded frames are zero in the outputs
    for i, f in enumerate(batch["mel_lengths"].tolist()):
        assert float(out.mel_post[i, f:].detach().abs().sum()) == 0.0
    out.loss.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    assert model.embed.weight.grad.abs().sum() > 0  # reached through encoder and aligner
    assert model.aligner.query.convs[0].layer.weight.grad.abs().sum() > 0
    assert int(model.train_step) == 1


def test_padding_does_not_change_eval_outputs():
    model = prepared_model(tiny_config())
    batch = random_batch(dtype=DT)
    with torch.no_grad():
        full = model(**batch)
        assert float(full.mel[0].std(0).mean()) > 0.05  # decoder spikes vary the mel over frames
        for i in (1, 2):
            alone = model(**item(batch, i))
            t, f = int(batch["token_lengths"][i]), int(batch["mel_lengths"][i])
            assert torch.equal(full.durations[i, :t], alone.durations[0])
            for name in ("mel", "mel_post"):
                torch.testing.assert_close(getattr(full, name)[i, :f], getattr(alone, name)[0])
            torch.testing.assert_close(full.soft_alignment[i, :f, :t], alone.soft_alignment[0])
            for name in ("log_duration", "pitch", "energy"):
                torch.testing.assert_close(getattr(full, name)[i, :t], getattr(alone, name)[0])


def test_aligner_durations_sum_to_mel_lengths_and_are_monotonic():
    model = SpikeVoice(VOCAB, N_MELS, tiny_config()).train()
    batch = random_batch(((9, 31), (4, 4), (6, 25), (1, 7)))
    out = model(**batch)
    tl, ml = batch["token_lengths"], batch["mel_lengths"]
    assert torch.equal(out.durations.sum(1), ml)
    for i, t in enumerate(tl.tolist()):
        assert bool((out.durations[i, :t] >= 1).all()) and bool((out.durations[i, t:] == 0).all())
    soft = out.soft_alignment.detach()
    for i, (t, f) in enumerate(zip(tl.tolist(), ml.tolist(), strict=True)):
        torch.testing.assert_close(soft[i, :f].sum(-1), torch.ones(f))
        assert float(soft[i, f:].abs().sum()) == 0.0 and float(soft[i, :, t:].abs().sum()) == 0.0


def test_external_durations_bypass_the_aligner():
    model = SpikeVoice(VOCAB, N_MELS, tiny_config()).train()
    batch = random_batch(((3, 7), (2, 5)))
    durations = torch.tensor([[2, 0, 5], [4, 1, -1]])  # -1: padding, ignored
    out = model(**batch, durations=durations)
    assert out.soft_alignment is None
    assert float(out.losses["forward_sum"]) == 0.0 and float(out.losses["binarization"]) == 0.0
    assert torch.equal(out.durations, torch.tensor([[2, 0, 5], [4, 1, 0]]))
    with pytest.raises(ValueError, match="durations: item 1 sums to 6 frames but mel_lengths"):
        model(**batch, durations=torch.tensor([[2, 0, 5], [4, 2, 0]]))


def test_missing_pitch_and_energy_give_zero_losses():
    model = SpikeVoice(VOCAB, N_MELS, tiny_config()).train()
    batch = random_batch()
    batch["pitch"] = batch["energy"] = None
    out = model(**batch)
    assert float(out.losses["pitch_mse"]) == 0.0 and float(out.losses["energy_mse"]) == 0.0
    assert torch.isfinite(out.loss)


def test_bad_inputs_raise_clear_errors():
    model = SpikeVoice(VOCAB, N_MELS, tiny_config())
    batch = random_batch()
    cases = [
        ({"tokens": batch["tokens"].float()}, "tokens: expected an integer"),
        ({"tokens": batch["tokens"].clamp_min(0) + VOCAB}, r"tokens: ids must lie in \[0, 11\)"),
        ({"mels": batch["mels"][..., :5]}, "mels: expected shape"),
        ({"mel_lengths": torch.tensor([20, 15, 99])}, "mel_lengths: values must lie in"),
        ({"token_lengths": torch.tensor([7, 5])}, r"token_lengths: expected shape \(3,\)"),
        ({"pitch": batch["pitch"][:, :4]}, "pitch: expected shape"),
        ({"speaker_ids": torch.tensor([0, 1, 2])}, "speaker_ids: given, but the model has num_speakers: 0"),
    ]
    for change, message in cases:
        with pytest.raises(ValueError, match=message):
            model(**{**batch, **change})
    with pytest.raises(ValueError, match="learned aligner needs at least one frame per token"):
        model(**random_batch(((6, 4), (2, 5))))
    with pytest.raises(ConfigError, match="unknown key"):
        from_dict(SpikeVoiceConfig, {"variance": {"bin": 3}})
    with pytest.raises(ConfigError, match="encoder.d_model 32 != decoder.d_model 64"):
        dc.replace(tiny_config(), decoder=dc.replace(tiny_config().decoder, d_model=64))


def test_speaker_conditioning():
    model = SpikeVoice(VOCAB, N_MELS, tiny_config(num_speakers=3, speaker_embedding_dim=5)).train()
    batch = random_batch()
    spk = torch.randn(3, 5)
    out = model(**batch, speaker_ids=torch.tensor([0, 2, 1]), speaker_embeddings=spk)
    out.loss.backward()
    assert model.speaker_table.weight.grad.abs().sum() > 0 and model.speaker_proj.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="speaker_ids: required"):
        model(**batch, speaker_embeddings=spk)
    with pytest.raises(ValueError, match="speaker_ids: expected shape"):
        model(**batch, speaker_ids=torch.tensor([0, 3, 1]), speaker_embeddings=spk)
    model.eval()
    result = model.infer(torch.tensor([1, 2, 3]), speaker_id=2, speaker_embedding=spk[0])
    assert result["mel"].shape[1] == N_MELS


def test_binarization_weight_schedule():
    cfg = tiny_config().loss
    cfg = dc.replace(cfg, binarization=2.0, binarization_start_step=10, binarization_warmup_steps=4)
    weights = [binarization_weight(cfg, s) for s in (0, 9, 10, 11, 13, 100)]
    assert weights == [0.0, 0.0, 0.5, 1.0, 2.0, 2.0]
    assert binarization_weight(dc.replace(cfg, binarization_warmup_steps=0), 10) == 2.0


# ---- aligner --------------------------------------------------------------------------------
def brute_force_best(lp: torch.Tensor) -> float:
    """Best score over all monotonic alignments of ``lp (F, L)`` (every token >= 1 frame)."""
    F, L = lp.shape
    best = -math.inf
    for cuts in itertools.combinations(range(1, F), L - 1):
        bounds = (0, *cuts, F)
        score = sum(float(lp[bounds[j]:bounds[j + 1], j].sum()) for j in range(L))
        best = max(best, score)
    return best


def check_path(hard: torch.Tensor, t: int, f: int) -> None:
    """``hard (F, L)``: one token per valid frame, starting at 0, ending at t-1, steps of 0/1."""
    assert float(hard[f:].sum()) == 0.0 and float(hard[:, t:].sum()) == 0.0
    assert torch.equal(hard[:f].sum(1), torch.ones(f, dtype=hard.dtype))
    tokens = hard[:f].argmax(1)
    assert int(tokens[0]) == 0 and int(tokens[-1]) == t - 1
    steps = tokens.diff()
    assert bool(((steps == 0) | (steps == 1)).all())


@st.composite
def alignment_problems(draw):
    f = draw(st.integers(1, 7))
    t = draw(st.integers(1, min(f, 4)))
    values = draw(st.lists(st.floats(-8.0, 0.0, allow_nan=False), min_size=f * t, max_size=f * t))
    return torch.tensor(values, dtype=DT).view(f, t)


@settings(max_examples=60, deadline=None)
@given(first=alignment_problems(), second=alignment_problems())
def test_mas_matches_brute_force(first, second):
    # both problems in one padded batch; the padding holds attractive garbage (+5)
    F = max(first.shape[0], second.shape[0]) + 1
    L = max(first.shape[1], second.shape[1]) + 1
    lp = torch.full((2, F, L), 5.0, dtype=DT)
    lp[0, : first.shape[0], : first.shape[1]] = first
    lp[1, : second.shape[0], : second.shape[1]] = second
    tl = torch.tensor([first.shape[1], second.shape[1]])
    ml = torch.tensor([first.shape[0], second.shape[0]])
    hard = monotonic_alignment_search(lp, tl, ml)
    for i, problem in enumerate((first, second)):
        f, t = problem.shape
        check_path(hard[i], t, f)
        score = float((hard[i, :f, :t] * problem).sum())
        assert math.isclose(score, brute_force_best(problem), rel_tol=1e-9, abs_tol=1e-9)


def test_beta_binomial_prior_rows_sum_to_one():
    shapes = [(1, 1), (1, 5), (3, 3), (5, 20), (7, 9), (12, 40)]
    tl = torch.tensor([p for p, _ in shapes])
    ml = torch.tensor([m for _, m in shapes])
    prior = beta_binomial_log_prior(tl, ml, 12, 40, scaling=1.0)
    assert prior.shape == (len(shapes), 40, 12)
    for i, (p, m) in enumerate(shapes):
        rows = prior[i, :m, :p].exp().sum(-1)
        torch.testing.assert_close(rows, torch.ones(m, dtype=DT))
        assert bool((prior[i, m:] == MASKED_LOGPROB).all())
        assert bool((prior[i, :, p:] == MASKED_LOGPROB).all())
        modes = prior[i, :m, :p].argmax(-1)
        assert bool((modes.diff() >= 0).all()) and int(modes[0]) == 0 and int(modes[-1]) == p - 1
    # a larger scaling concentrates the prior around the diagonal (lower entropy)
    sharp = beta_binomial_log_prior(tl, ml, 12, 40, scaling=5.0)
    entropy = [-(q[3, :20, :5].exp() * q[3, :20, :5]).sum() for q in (prior, sharp)]
    assert entropy[1] < entropy[0]


# ---- variance adaptor -----------------------------------------------------------------------
def test_length_regulate_and_average_by_duration():
    x = torch.tensor([[[1.0], [2.0], [3.0]], [[4.0], [5.0], [6.0]]])
    d = torch.tensor([[2, 0, 3], [1, 1, 0]])
    frames, lengths = length_regulate(x, d)
    assert lengths.tolist() == [5, 2]
    assert frames[..., 0].tolist() == [[1, 1, 3, 3, 3], [4, 5, 0, 0, 0]]
    frames, _ = length_regulate(x, d, max_len=7)
    assert frames.shape == (2, 7, 1)
    with pytest.raises(ValueError, match="more than max_len"):
        length_regulate(x, d, max_len=4)
    values = torch.tensor([[1.0, 3.0, 2.0, 4.0, 6.0, 9.0], [5.0, 7.0, float("nan"), 0, 0, 0]])
    avg = average_by_duration(values, d)
    assert avg.tolist() == [[2.0, 0.0, 4.0], [5.0, 7.0, 0.0]]
    # averaging what was length-regulated gives back the token values (tokens with frames)
    frames, _ = length_regulate(x, d)
    assert torch.equal(average_by_duration(frames[..., 0], d), torch.tensor([[1.0, 0, 3], [4, 5, 0]]))


def test_conv_stack_is_spike_driven_and_padding_invariant():
    cfg = tiny_config().encoder.neuron
    stack = ConvStack([8, 16, 4], kernel=5, dropout=0.0, neuron=cfg, time_steps=4).double()
    assert stack.time_steps == 4 and all(isinstance(a, MultiStepLIF) for a in stack.acts)
    seen = []
    for conv in stack.convs:
        conv.register_forward_hook(lambda m, inp, out: seen.append(inp[0]))
    x = torch.randn(2, 9, 8, dtype=DT) * 3
    lengths = torch.tensor([9, 6])
    padded = x.clone()
    padded[1, 6:] = 1e4
    with torch.no_grad():
        stack.train()
        stack(x, lengths)  # BN running statistics
        stack.eval()
        out = stack(padded, lengths)
        torch.testing.assert_close(out[1, :6], stack(x[1:, :6])[0])
    assert float(out[1, 6:].abs().sum()) == 0.0
    assert all(bool(((s == 0) | (s == 1)).all()) for s in seen) and seen[0].shape[0] == 4


# ---- inference, reparameterisation, variants --------------------------------------------------
def test_infer_speed_and_external_durations():
    model = SpikeVoice(VOCAB, N_MELS, tiny_config()).eval()
    readout = model.variance.duration_predictor.stack.readout
    with torch.no_grad():  # predicted durations ~8 frames per token
        readout.weight.mul_(0.01)
        readout.bias.fill_(math.log(9.0))
    tokens = torch.randint(0, VOCAB, (12,))
    normal, fast = model.infer(tokens), model.infer(tokens, speed=2.0)
    n, f = normal["mel"].shape[0], fast["mel"].shape[0]
    assert n == int(normal["durations"].sum()) and n > 60
    assert 0.4 < f / n < 0.6
    assert normal["durations"].shape == normal["pitch"].shape == normal["energy"].shape == (12,)
    slow = model.infer(tokens, speed=0.01)
    assert slow["mel"].shape[0] > 50 * n
    tiny = model.infer(tokens, speed=1e6)  # everything rounds to 0: still one frame
    assert tiny["mel"].shape[0] == 1 and int(tiny["durations"].sum()) == 1
    forced = model.infer(tokens, durations=torch.arange(12))
    assert forced["mel"].shape == (66, N_MELS) and torch.equal(forced["durations"], torch.arange(12))
    shifted = model.infer(tokens, pitch_shift=1.5)
    torch.testing.assert_close(shifted["pitch"], normal["pitch"] + 1.5)
    with pytest.raises(ValueError, match="speed must be"):
        model.infer(tokens, speed=0.0)


def test_folding_keeps_eval_outputs():
    model = prepared_model(tiny_config())
    batch = random_batch(dtype=DT)
    durations = torch.tensor([[3, 3, 3, 2, 3, 3, 3], [3, 3, 3, 3, 3, 0, 0], [3, 3, 3, 0, 0, 0, 0]])
    tokens = torch.tensor([1, 4, 2, 7, 3])
    with torch.no_grad():
        before = model(**batch, durations=durations)
    before_infer = model.infer(tokens)
    n_before = model.num_parameters(exclude_aligner=True)
    model = fold_for_inference(model)
    assert not any(type(m).__name__ == "ConvBN" and m.bn is not None for m in model.modules())
    assert model.num_parameters(exclude_aligner=True) < n_before
    with torch.no_grad():
        after = model(**batch, durations=durations)
    after_infer = model.infer(tokens)
    torch.testing.assert_close(after.mel_post, before.mel_post)
    torch.testing.assert_close(after.pitch, before.pitch)
    assert torch.equal(after_infer["durations"], before_infer["durations"])
    torch.testing.assert_close(after_infer["mel"], before_infer["mel"])


def test_every_weight_layer_sees_spikes_at_inference():
    model = prepared_model(tiny_config(), dtype=torch.float32)
    with EnergyMeter(model) as meter:
        model.infer(torch.tensor([1, 4, 2, 7, 3]))
    layers = [x for x in meter.report().layers if x.op in ("linear", "conv")]
    assert len(layers) >= 10
    real = [(x.name, x.input) for x in layers if x.input != "binary"]
    assert not real
    for part in ("encoder", "variance", "decoder", "mel_head", "postnet"):
        assert any(x.name.startswith(part) for x in layers), part


def test_ann_backbone_runs():
    cfg = shrink(load_tts_config(CONF / "fastspeech2_ann.yaml"))
    model = SpikeVoice(VOCAB, N_MELS, cfg).train()
    assert isinstance(model.encoder, ANNEncoder) and isinstance(model.decoder, ANNEncoder)
    assert not any(isinstance(m, SpikingNeuron) for m in model.modules())
    assert model.postnet.time_steps == 1 and isinstance(model.postnet.acts[1], torch.nn.Tanh)
    out = model(**random_batch())
    out.loss.backward()
    assert torch.isfinite(out.loss)
    model.eval()
    before = model.infer(torch.tensor([1, 2, 3]))
    after = fold_for_inference(model).infer(torch.tensor([1, 2, 3]))
    torch.testing.assert_close(after["mel"], before["mel"], atol=1e-4, rtol=1e-4)


def test_imls_config_runs():
    full = load_tts_config(CONF / "spikevoice_imls.yaml")
    assert full.encoder.neuron.type == "imls" and full.encoder.time_steps == 1
    assert full.decoder.attention.type == "hd_repssa" and full.decoder.layers == 6
    model = SpikeVoice(VOCAB, N_MELS, shrink(full)).train()
    assert isinstance(model.encoder, SpikingEncoder)
    assert any(isinstance(a, IMLSNeuron) for a in model.postnet.acts)
    out = model(**random_batch())
    out.loss.backward()
    assert torch.isfinite(out.loss) and torch.equal(out.durations.sum(1), torch.tensor([20, 15, 9]))
    model.eval()
    result = model.infer(torch.tensor([1, 2, 3, 4]))
    assert result["mel"].shape[0] == int(result["durations"].sum()) >= 1
    folded = fold_for_inference(model)
    torch.testing.assert_close(folded.infer(torch.tensor([1, 2, 3, 4]))["mel"], result["mel"],
                               atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("name", ["spikevoice", "spikevoice_sd", "spikevoice_imls", "fastspeech2_ann"])
def test_full_size_parameter_count(name):
    """Every full-size config lands near the public SpikeVoice code's size (10cce8e: 37.3 M;
    tests/tts/test_tts_published.py pins the published variant part by part)."""
    cfg = load_tts_config(CONF / f"{name}.yaml")
    with torch.device("meta"):
        model = SpikeVoice(78, 80, cfg)
    counted = model.num_parameters(exclude_aligner=True)
    assert 35.15e6 <= counted <= 38.85e6, counted
    assert 35.15e6 <= model.num_parameters() <= 38.85e6
    if name == "spikevoice_sd":
        assert cfg == SpikeVoiceConfig()  # the YAML spells out the dataclass defaults


def test_small_config_size():
    cfg = load_tts_config(CONF / "small.yaml")
    assert cfg.encoder.neuron.type == "lif" and cfg.encoder.time_steps == 4
    assert cfg.encoder.attention.type == "stsa" and cfg.encoder.layers == cfg.decoder.layers == 2
    with torch.device("meta"):
        model = SpikeVoice(78, 80, cfg)
    assert 1e6 <= model.num_parameters(exclude_aligner=True) <= 3e6


def test_variance_config_defaults_are_fastspeech2():
    v = VarianceConfig()
    assert (v.duration.layers, v.duration.channels, v.duration.kernel) == (2, 256, 3)
    assert v.bins == 256 and v.pitch_range == (-4.0, 4.0)


# ---- overfit on real speech -------------------------------------------------------------------
SR, HOP, N_FFT = 22050, 512, 2048  # hop 23 ms: half the frames of the usual 256, for test speed


def ljspeech_batch(n: int = 4):
    """The ``n`` shortest clips as a padded batch: character tokens of the normalised text,
    z-scored log-mels (80), log-F0 (pyworld, unvoiced interpolated) and log energy."""
    import numpy as np
    import pyworld
    import soundfile as sf
    import torchaudio

    root = shared_data("ljspeech_subset")
    rows = [line.split("|") for line in (root / "metadata.csv").read_text(encoding="utf-8").splitlines()]
    rows = sorted(rows, key=lambda r: sf.info(root / "wavs" / f"{r[0]}.wav").frames)[:n]
    melspec = torchaudio.transforms.MelSpectrogram(SR, n_fft=N_FFT, hop_length=HOP, n_mels=80, f_max=8000)
    items = []
    for uid, _, text in rows:
        wav, sr = sf.read(root / "wavs" / f"{uid}.wav", dtype="float64")
        assert sr == SR
        x = torch.from_numpy(wav).float()
        mel = melspec(x).clamp_min(1e-5).log().T  # (F, 80)
        frames = mel.shape[0]
        f0, t = pyworld.dio(wav, SR, frame_period=1000 * HOP / SR)
        f0 = np.pad(pyworld.stonemask(wav, f0, t, SR), (0, frames))[:frames]
        voiced = np.nonzero(f0 > 0)[0]
        lf0 = np.interp(np.arange(frames), voiced, np.log(f0[voiced]))
        spec = torch.stft(x, N_FFT, HOP, window=torch.hann_window(N_FFT), return_complex=True)
        energy = spec.abs().square().sum(0).clamp_min(1e-5).log()[:frames]
        items.append((text.lower(), mel, torch.from_numpy(lf0).float(), energy))
    vocab = sorted({c for text, *_ in items for c in text})
    cat = [torch.cat([it[k] for it in items]) for k in (1, 2, 3)]
    stats = [(c.mean(0), c.std(0)) for c in cat]
    tl = torch.tensor([len(it[0]) for it in items])
    ml = torch.tensor([it[1].shape[0] for it in items])
    tokens = torch.zeros(n, int(tl.max()), dtype=torch.long)
    mels = torch.zeros(n, int(ml.max()), 80)
    pitch, energy = torch.zeros(n, int(ml.max())), torch.zeros(n, int(ml.max()))
    for i, (text, mel, lf0, en) in enumerate(items):
        tokens[i, : len(text)] = torch.tensor([vocab.index(c) for c in text])
        f = mel.shape[0]
        mels[i, :f] = (mel - stats[0][0]) / stats[0][1]
        pitch[i, :f] = (lf0 - stats[1][0]) / stats[1][1]
        energy[i, :f] = (en - stats[2][0]) / stats[2][1]
    batch = dict(tokens=tokens, token_lengths=tl, mels=mels, mel_lengths=ml, pitch=pitch, energy=energy)
    return batch, len(vocab)


@pytest.mark.slow
def test_small_config_overfits_four_real_clips():
    batch, vocab = ljspeech_batch(4)
    assert bool((batch["mel_lengths"] > batch["token_lengths"]).all())
    model = SpikeVoice(vocab, 80, load_tts_config(CONF / "small.yaml")).train()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    history = []
    for _ in range(150):
        out = model(**batch)
        opt.zero_grad()
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        history.append({k: float(v.detach()) for k, v in out.losses.items()})
        assert torch.equal(out.durations.sum(1), batch["mel_lengths"])
    first = history[0]["mel_l1"]
    last = sum(h["mel_l1"] for h in history[-5:]) / 5
    assert last < 0.5 * first, (first, last)
    assert sum(h["postnet_l1"] for h in history[-5:]) / 5 < 0.5 * history[0]["postnet_l1"]
    assert history[-1]["duration_mse"] < 0.5 * history[0]["duration_mse"]
    assert history[-1]["forward_sum"] < 0.5 * history[0]["forward_sum"]
    # the learned alignment is close to the diagonal but not uniform: durations vary
    t = int(batch["token_lengths"][3])
    assert int(out.durations[3, :t].max()) > int(out.durations[3, :t].min())
