"""Vocoders: ESPnet-exact log-mel, fast Griffin-Lim on real speech, HiFi-GAN generator,
vocoder training (checkpoints, resume, non-finite steps) and ``load_vocoder`` errors."""

from __future__ import annotations

import math
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import soundfile as sf
import torch
import yaml
from _helpers import shared_data

from spikespeech.config import ConfigError
from spikespeech.vocoder import (
    GriffinLimVocoder,
    HiFiGANVocoder,
    MelSpec,
    VocoderError,
    build_generator,
    load_vocoder,
    mel_spec_of_config,
    mel_spec_of_model,
    mel_to_linear,
)

LJ = MelSpec()  # ESPnet LJSpeech fbank: 22.05 kHz, n_fft 1024, hop 256, 80 mels, 80-7600 Hz

# A vocoder small enough to train a few steps in a test (hop 256 = 8 * 8 * 4)
TINY_GENERATOR = {"channels": 16, "upsample_scales": [8, 8, 4], "upsample_kernel_sizes": [16, 16, 8],
                  "resblock_kernel_sizes": [3], "resblock_dilations": [[1, 3]]}
TINY_CONFIG = {
    "generator_params": TINY_GENERATOR,
    "discriminator_params": {
        "scales": 1,
        "scale_discriminator_params": {"channels": 4, "max_downsample_channels": 16, "max_groups": 1,
                                       "kernel_sizes": [15, 41, 5, 3], "downsample_scales": [4, 4, 1]},
        "periods": [2, 3],
        "period_discriminator_params": {"channels": 4, "max_downsample_channels": 16,
                                        "downsample_scales": [3, 3, 1]},
    },
    "train": {"batch_size": 2, "segment_frames": 16, "log_interval": 1, "valid_interval": 2,
              "save_interval": 1, "valid_max_frames": 80},
}


def _clip(name: str = "LJ001-0001") -> torch.Tensor:
    wav, rate = sf.read(shared_data("ljspeech_subset") / "wavs" / f"{name}.wav", dtype="float32")
    assert rate == 22050
    return torch.from_numpy(wav)


def _logmel_l1(wav: torch.Tensor, logmel: torch.Tensor, spec: MelSpec = LJ) -> float:
    """Mean |log10-mel(wav) - logmel| over the frames of ``logmel``."""
    return (spec.features(wav)[: logmel.shape[0]] - logmel).abs().mean().item()


def _spectral_convergence(wav: torch.Tensor, reference: torch.Tensor, spec: MelSpec = LJ) -> float:
    """‖|STFT(reference)| − |STFT(wav)|‖_F / ‖|STFT(reference)|‖_F over the common frames."""
    ref = spec.stft(reference).abs()
    got = spec.stft(wav).abs()
    frames = min(ref.shape[-1], got.shape[-1])
    ref, got = ref[..., :frames], got[..., :frames]
    return ((ref - got).norm() / ref.norm()).item()


# ---- MelSpec ----------------------------------------------------------------------------


@pytest.mark.parametrize("conf, fs", [
    ({"n_fft": 1024, "hop_length": 256, "win_length": 1024, "n_mels": 80, "fmin": 80, "fmax": 7600}, 22050),
    ({"n_fft": 512, "hop_length": 128, "win_length": 400, "n_mels": 40, "fmin": 0, "fmax": None,
      "log_base": None}, 16000),
    ({"n_fft": 2048, "hop_length": 300, "win_length": 1200, "n_mels": 80, "fmin": 80, "fmax": 7600}, 24000),
])
def test_mel_features_equal_espnet_logmelfbank(conf, fs):
    from espnet2.tts.feats_extract.log_mel_fbank import LogMelFbank

    wav = _clip()
    espnet, _ = LogMelFbank(fs=fs, **conf)(wav[None])
    spec = MelSpec.from_espnet_conf(conf, fs=fs)
    ours = spec.features(wav)
    assert ours.shape == (wav.numel() // conf["hop_length"] + 1, conf["n_mels"]) == espnet.shape[1:]
    torch.testing.assert_close(ours, espnet[0], rtol=0, atol=1e-5)
    two = spec.features(torch.stack([wav[:30000], wav[5000:35000]]))  # batch rows are independent
    torch.testing.assert_close(two[1], spec.features(wav[5000:35000]), rtol=0, atol=1e-5)


def test_mel_spec_from_espnet_conf_defaults_and_errors():
    assert MelSpec.from_espnet_conf({"fs": 22050}) == MelSpec(win_length=None)  # LogMelFbank defaults
    assert MelSpec.from_espnet_conf({}, fs="22.05k").fs == 22050
    assert MelSpec.from_espnet_conf({}).fs == 16000  # LogMelFbank's own default rate
    with pytest.raises(ConfigError, match="fs=22050 disagrees with fs=16000"):
        MelSpec.from_espnet_conf({"fs": 22050}, fs=16000)
    with pytest.raises(ConfigError, match="not LogMelFbank option.*n_shift"):
        MelSpec.from_espnet_conf({"n_shift": 256})
    with pytest.raises(ConfigError, match="center"):
        MelSpec.from_espnet_conf({"center": False})
    with pytest.raises(ConfigError, match="fmax"):
        MelSpec.from_espnet_conf({"fmax": 9000}, fs=16000)  # above Nyquist


def test_mel_spec_of_model_and_config():
    from espnet2.tts.feats_extract.log_mel_fbank import LogMelFbank

    conf = {"fs": 22050, "n_fft": 1024, "hop_length": 256, "win_length": 1024, "n_mels": 80, "fmin": 80,
            "fmax": 7600}
    model = torch.nn.Module()
    model.feats_extract = LogMelFbank(**conf)
    assert mel_spec_of_model(model) == LJ
    assert mel_spec_of_config({"feats_extract": "fbank", "feats_extract_conf": conf}) == LJ
    model.feats_extract = None
    with pytest.raises(VocoderError, match="feats_extract is NoneType, not fbank"):
        mel_spec_of_model(model)
    with pytest.raises(VocoderError, match="linear_spectrogram"):
        mel_spec_of_config({"feats_extract": "linear_spectrogram"})


# ---- Griffin-Lim --------------------------------------------------------------------------


def test_griffin_lim_reconstructs_real_speech_and_improves_with_iterations():
    wav = _clip()[22050: 3 * 22050]  # 2 s of LJSpeech
    logmel = LJ.features(wav)
    results = {}
    for n_iter in (4, 32):
        out = GriffinLimVocoder(LJ, n_iter=n_iter)(logmel)
        assert out.dtype == torch.float32 and out.shape == (logmel.shape[0] * LJ.hop_length,)
        assert torch.isfinite(out).all() and out.abs().max() <= 1.0
        results[n_iter] = (_logmel_l1(out, logmel), _spectral_convergence(out, wav))
    # measured: 4 iterations ≈ 0.079 / 0.35, 32 iterations ≈ 0.050 / 0.275 (log10-mel L1 / SC; the SC
    # floor is the detail 80 mel bands cannot carry)
    assert results[32][0] < 0.065 and results[32][1] < 0.35
    assert results[32][0] < 0.75 * results[4][0] and results[32][1] < 0.9 * results[4][1]
    # loudness is kept: the re-analysed mel energy matches the input within 1 dB on average
    assert abs((LJ.features(out)[: logmel.shape[0]] - logmel).mean().item()) < 0.05


def test_mel_inversion_nnls_refinement_beats_pseudo_inverse():
    logmel = LJ.features(_clip()[:22050])
    errors = []
    for nnls_iter in (0, 30):
        amp = mel_to_linear(logmel, LJ, nnls_iter)
        assert amp.shape == (LJ.n_freq, logmel.shape[0]) and amp.min() >= 1e-5
        errors.append((LJ.amplitude_to_logmel(amp) - logmel).abs().mean().item())
    assert errors[1] < 0.5 * errors[0] and errors[1] < 0.01


def test_griffin_lim_batch_deterministic_and_short_inputs():
    wav = _clip()
    batch = torch.stack([LJ.features(wav[:20000]), LJ.features(wav[30000:50000])])
    vocoder = GriffinLimVocoder(LJ, n_iter=8)
    out = vocoder(batch)
    assert out.shape == (2, batch.shape[1] * LJ.hop_length) and torch.isfinite(out).all()
    assert torch.equal(vocoder(batch), out)  # seeded random phase: reproducible
    assert GriffinLimVocoder(LJ, n_iter=8, init="zeros")(batch[0]).shape == out.shape[1:]
    for frames in (0, 1, 2, 3):
        short = vocoder(batch[0, :frames])
        assert short.shape == (frames * LJ.hop_length,) and torch.isfinite(short).all()
    with pytest.raises(ValueError, match=r"expected log-mel \(frames, 80\)"):
        vocoder(torch.zeros(10, 40))
    with pytest.raises(ValueError, match="NaN"):
        vocoder(torch.full((10, 80), float("nan")))


def test_griffin_lim_is_fast_on_cpu():
    logmel = LJ.features(_clip()[:22050])  # 1 s of audio, 87 frames
    vocoder = GriffinLimVocoder(LJ)  # defaults: 32 iterations
    vocoder(logmel)
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        vocoder(logmel)
        best = min(best, time.perf_counter() - start)
    assert best < 0.5  # measured ≈ 0.035-0.05 s on one thread of a shared 2-core CPU


# ---- HiFi-GAN -----------------------------------------------------------------------------


def test_hifigan_generator_output_shape_and_config_checks():
    params = {"channels": 32, "resblock_kernel_sizes": [3], "resblock_dilations": [[1]]}
    generator = build_generator(params, LJ)
    vocoder = HiFiGANVocoder(generator, LJ)
    assert vocoder.sample_rate == vocoder.fs == 22050
    out = vocoder(torch.randn(20, 80) - 3)
    assert out.shape == (20 * 256,) and out.abs().max() <= 1 and torch.isfinite(out).all()
    assert vocoder(torch.randn(3, 7, 80)).shape == (3, 7 * 256)
    with pytest.raises(ConfigError, match=r"upsample_scales \[8, 8, 2\] multiply to 128, not hop_length=256"):
        build_generator({"upsample_scales": [8, 8, 2]}, LJ)
    with pytest.raises(ConfigError, match="in_channels=40 does not match n_mels=80"):
        build_generator({"in_channels": 40}, LJ)
    with pytest.raises(ConfigError, match="unknown key.*global_channels"):
        build_generator({"global_channels": 4}, LJ)


def test_shipped_vocoder_configs_build():
    from spikespeech.vocoder.training import VocoderTrainConfig

    conf_dir = Path(__file__).resolve().parents[2] / "spikespeech" / "conf" / "vocoder"
    small = VocoderTrainConfig.load(conf_dir / "hifigan_small.yaml")
    assert small.mel == LJ and small.train.lambda_mel == 45 and small.train.lambda_feat_match == 2
    generator = build_generator(small.generator_params, small.mel)
    assert 0.5e6 < sum(p.numel() for p in generator.parameters()) < 2e6
    assert VocoderTrainConfig.load(conf_dir / "hifigan_v1.yaml").generator_params["channels"] == 512
    rate16k = VocoderTrainConfig.load(conf_dir / "hifigan_small.yaml", fs=16000)
    assert rate16k.mel.fs == 16000 and rate16k.mel.hop_length == 256


# ---- training ---------------------------------------------------------------------------


@pytest.fixture
def scp(tmp_path):
    wavs = shared_data("ljspeech_subset") / "wavs"
    train = tmp_path / "train.scp"
    train.write_text("".join(f"{u} {wavs / u}.wav\n" for u in ("LJ001-0002", "LJ001-0003")))
    valid = tmp_path / "valid.scp"
    valid.write_text(f"LJ001-0004 {wavs / 'LJ001-0004'}.wav\n")
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(TINY_CONFIG))
    return config, train, valid


def test_read_wav_scp_errors_name_the_file_and_line(tmp_path):
    from spikespeech.vocoder.training import read_wav_scp

    path = tmp_path / "wav.scp"
    path.write_text("a /x.wav\n\nb\t/y z.wav  \n")
    assert read_wav_scp(path) == [("a", "/x.wav"), ("b", "/y z.wav")]
    for content, message in [("a /x.wav\nb cat y.wav |\n", "wav.scp:2: pipe commands are not supported"),
                             ("a /x.wav\nb\n", "wav.scp:2: expected '<utt_id> <audio path>', got 'b'"),
                             ("a /x.wav\na /y.wav\n", "wav.scp:2: duplicate utterance id 'a'"),
                             ("\n", "wav.scp: no utterances")]:
        path.write_text(content)
        with pytest.raises(ValueError, match=re.escape(message)):
            read_wav_scp(path)


def _train(config, train, valid, out, steps, *extra):
    from spikespeech.bin.vocoder_train import main

    return main(["--config", str(config), "--train_wav_scp", str(train), "--valid_wav_scp", str(valid),
                 "--output_dir", str(out), "--max_steps", str(steps), "--device", "cpu", *extra])


def test_training_writes_checkpoints_resumes_and_exports(scp, tmp_path, capsys):
    config, train, valid = scp
    out = tmp_path / "exp"
    assert _train(config, train, valid, out, 2) == 0
    first = torch.load(out / "checkpoint.pth", weights_only=True)
    assert first["step"] == 2
    assert _train(config, train, valid, out, 2) == 1  # no silent overwrite
    assert "pass --resume true" in capsys.readouterr().err
    assert _train(config, train, valid, out, 4, "--resume", "true") == 0
    state = torch.load(out / "checkpoint.pth", weights_only=True)
    assert state["step"] == 4 and state["skipped_steps"] == 0
    assert not torch.equal(state["generator"]["input_conv.bias"], first["generator"]["input_conv.bias"])
    log = (out / "train.log").read_text()
    assert f"resumed from {out / 'checkpoint.pth'} at step 2" in log
    steps = [int(s) for s in re.findall(r"step (\d+): mel", log)]
    assert steps == [1, 2, 3, 4]  # the resumed run continues the count
    losses = [float(x) for x in re.findall(r"step \d+: mel .* generator (\S+)", log)]
    assert len(losses) == 4 and all(math.isfinite(x) and x > 0 for x in losses)
    valid_l1 = [float(x) for x in re.findall(r"valid mel-L1 ([\d.]+)", log)]
    assert valid_l1 and all(0 < x < 10 for x in valid_l1)
    assert "valid mel-L1 of Griffin-Lim (reference)" in log
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]  # atomic writes left no debris

    exported = yaml.safe_load((out / "config.yaml").read_text())
    assert exported["steps"] == 4 and exported["generator_params"]["use_weight_norm"] is False
    assert MelSpec.from_dict(exported["mel"]) == LJ
    vocoder = load_vocoder(out, LJ)
    assert isinstance(vocoder, HiFiGANVocoder)
    wav = vocoder(LJ.features(_clip()[:10000]))
    assert wav.shape == (LJ.num_frames(10000) * 256,) and torch.isfinite(wav).all()
    # the exported (weight norm folded) generator computes what the trained one did
    from spikespeech.vocoder.training import VocoderTrainConfig, _Trainer

    trainer = _Trainer(VocoderTrainConfig.load(config), torch.device("cpu"))
    trainer.load_state_dict(state, out / "checkpoint.pth")
    mel = LJ.features(_clip()[:10000])
    with torch.no_grad():
        trained = trainer.generator.eval()(mel.T[None])[0, 0]
    torch.testing.assert_close(vocoder(mel), trained, rtol=0, atol=1e-5)


def test_training_reads_other_rates_and_rejects_bad_inputs(scp, tmp_path, capsys):
    config, train, valid = scp
    out = tmp_path / "exp16k"
    assert _train(config, train, valid, out, 1, "--fs", "16000", "--segment_frames", "8") == 0  # resampled
    assert yaml.safe_load((out / "config.yaml").read_text())["mel"]["fs"] == 16000
    assert torch.load(out / "checkpoint.pth", weights_only=True)["step"] == 1
    with pytest.raises(VocoderError, match="sample rate 16000 Hz does not match the TTS model's 22050 Hz"):
        load_vocoder(out, LJ)
    capsys.readouterr()
    missing = tmp_path / "missing.scp"
    missing.write_text("utt1 /nonexistent/a.wav\n")
    assert _train(config, missing, valid, tmp_path / "e2", 1) == 1
    assert "utterance utt1: /nonexistent/a.wav: no such file" in capsys.readouterr().err
    assert _train(config, train, valid, tmp_path / "e3", 1, "--segment_frames", "100000") == 1
    assert "no utterance has at least 100000 frames" in capsys.readouterr().err
    tts_config = tmp_path / "tts_config.yaml"  # the mel analysis comes from the TTS model's config
    tts_config.write_text(yaml.safe_dump({"feats_extract": "fbank", "feats_extract_conf": {
        "fs": 24000, "n_fft": 2048, "hop_length": 300, "win_length": 1200, "n_mels": 80}}))
    assert _train(config, train, valid, tmp_path / "e4", 1, "--tts_config", str(tts_config)) == 1
    assert "upsample_scales [8, 8, 4] multiply to 256, not hop_length=300" in capsys.readouterr().err


def test_non_finite_loss_skips_the_step(monkeypatch):
    from espnet2.gan_tts.hifigan.loss import MelSpectrogramLoss

    from spikespeech.vocoder.training import TrainingDiverged, VocoderTrainConfig, _Trainer

    config = VocoderTrainConfig(generator_params=dict(TINY_GENERATOR),
                                discriminator_params=TINY_CONFIG["discriminator_params"])
    config.train.max_nonfinite_steps = 3
    trainer = _Trainer(config, torch.device("cpu"))
    mel, wav = torch.randn(2, 80, 16) - 3, 0.1 * torch.randn(2, 1, 16 * 256)
    assert math.isfinite(trainer.train_step(mel, wav)["generator"])
    before = {k: v.clone() for k, v in trainer.generator.state_dict().items()}
    original = MelSpectrogramLoss.forward
    def nan_loss(self, *args, **kwargs):
        return math.nan * original(self, *args, **kwargs)

    monkeypatch.setattr(MelSpectrogramLoss, "forward", nan_loss)
    stats = trainer.train_step(mel, wav)
    assert math.isnan(stats["generator"]) and trainer.step == 2 and trainer.skipped_steps == 1
    after = trainer.generator.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # no update from the NaN step
    trainer.train_step(mel, wav)
    with pytest.raises(TrainingDiverged, match="3 non-finite steps in a row"):
        trainer.train_step(mel, wav)
    monkeypatch.setattr(MelSpectrogramLoss, "forward", original)
    trainer.nonfinite_in_a_row = 0
    assert math.isfinite(trainer.train_step(mel, wav)["generator"])


@pytest.mark.slow
def test_training_killed_mid_run_resumes_from_last_checkpoint(scp, tmp_path):
    config, train, valid = scp
    out = tmp_path / "exp"
    command = [sys.executable, "-m", "spikespeech.bin.vocoder_train", "--config", str(config),
               "--train_wav_scp", str(train), "--output_dir", str(out), "--device", "cpu"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen([*command, "--max_steps", "10000"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 240
        while time.time() < deadline and "step 3: mel" not in _read(out / "train.log"):
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    killed_at = torch.load(out / "checkpoint.pth", weights_only=True)["step"]  # complete, loadable
    assert killed_at >= 2
    target = killed_at + 2
    done = subprocess.run([*command, "--max_steps", str(target), "--resume", "true"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert torch.load(out / "checkpoint.pth", weights_only=True)["step"] == target
    assert f"resumed from {out / 'checkpoint.pth'} at step {killed_at}" in done.stderr


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


# ---- load_vocoder -------------------------------------------------------------------------


@pytest.fixture
def vocoder_dir(tmp_path):
    from spikespeech.vocoder.training import VocoderTrainConfig, export_vocoder

    config = VocoderTrainConfig(generator_params=dict(TINY_GENERATOR))
    out = tmp_path / "voc"
    out.mkdir()
    generator = build_generator(config.generator_params, config.mel)
    export_vocoder(out, generator, config, step=0, valid_mel_l1=None)
    return out


def test_load_vocoder_griffin_lim_specs():
    assert isinstance(load_vocoder(None, LJ), GriffinLimVocoder)
    vocoder = load_vocoder("griffin_lim:n_iter=64,momentum=0.9,init=zeros,seed=none", LJ)
    assert (vocoder.n_iter, vocoder.momentum, vocoder.init, vocoder.seed) == (64, 0.9, "zeros", None)
    assert vocoder.sample_rate == vocoder.fs == 22050 and vocoder.to("cpu") is vocoder
    with pytest.raises(VocoderError, match="bad option 'iters=3'"):
        load_vocoder("griffin_lim:iters=3", LJ)
    with pytest.raises(VocoderError, match="n_iter='many' is not a valid int"):
        load_vocoder("griffin_lim:n_iter=many", LJ)
    with pytest.raises(VocoderError, match="momentum must be in"):
        load_vocoder("griffin_lim:momentum=3", LJ)


def test_load_vocoder_hifigan_dir_zip_and_pack_names(vocoder_dir, tmp_path):
    mel = LJ.features(_clip()[:8000])
    reference = load_vocoder(vocoder_dir, LJ)(mel)
    assert reference.shape == (mel.shape[0] * 256,)
    assert torch.equal(load_vocoder(str(vocoder_dir / "generator.pth"), LJ)(mel), reference)
    archive = tmp_path / "voc.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name in ("config.yaml", "generator.pth"):
            zf.write(vocoder_dir / name, f"voc/{name}")
    assert torch.equal(load_vocoder(archive, LJ)(mel), reference)
    pack = tmp_path / "pack"  # a TTS pack stores them as vocoder.pth + vocoder.yaml
    pack.mkdir()
    (pack / "vocoder.pth").write_bytes((vocoder_dir / "generator.pth").read_bytes())
    (pack / "vocoder.yaml").write_bytes((vocoder_dir / "config.yaml").read_bytes())
    assert torch.equal(load_vocoder(pack / "vocoder.pth", LJ, config=pack / "vocoder.yaml")(mel), reference)


def test_load_vocoder_errors_name_the_path_and_problem(vocoder_dir, tmp_path):
    with pytest.raises(VocoderError, match=r"^/nowhere/voc: no such vocoder"):
        load_vocoder("/nowhere/voc", LJ)
    with pytest.raises(VocoderError, match=rf"^{vocoder_dir}: hop length 256 samples does not match "
                                           r"the TTS model's 300 samples$"):
        load_vocoder(vocoder_dir, MelSpec(hop_length=300))
    with pytest.raises(VocoderError, match=rf"^{vocoder_dir}: n_mels 80 does not match .* 40"):
        load_vocoder(vocoder_dir, MelSpec(n_mels=40))
    with pytest.raises(VocoderError, match=rf"^{vocoder_dir}: mel settings differ .*fmax 7600.0 vs 8000.0"):
        load_vocoder(vocoder_dir, MelSpec(fmax=8000))
    with pytest.warns(UserWarning, match="mel settings differ"):
        load_vocoder(vocoder_dir, MelSpec(fmax=8000), strict=False)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.yaml").write_bytes((vocoder_dir / "config.yaml").read_bytes())
    with pytest.raises(VocoderError, match=rf"^{broken}: not a vocoder dir \(missing generator.pth\)"):
        load_vocoder(broken, LJ)
    (broken / "generator.pth").write_bytes(b"truncated")
    with pytest.raises(VocoderError, match=rf"^{broken}: unreadable generator.pth"):
        load_vocoder(broken, LJ)
    config = yaml.safe_load((vocoder_dir / "config.yaml").read_text())
    config["generator_params"]["channels"] = 32
    (broken / "config.yaml").write_text(yaml.safe_dump(config))
    (broken / "generator.pth").write_bytes((vocoder_dir / "generator.pth").read_bytes())
    with pytest.raises(VocoderError, match=rf"^{broken}: generator.pth tensor shapes do not fit"):
        load_vocoder(broken, LJ)
    (broken / "config.yaml").write_text("mel: [unclosed")
    with pytest.raises(VocoderError, match=rf"^{broken}/config.yaml: vocoder config is not valid YAML"):
        load_vocoder(broken, LJ)
    not_zip = tmp_path / "model.pth"
    not_zip.write_bytes(b"x")
    with pytest.raises(VocoderError, match=rf"^{not_zip}: vocoder config {tmp_path}/config.yaml not found"):
        load_vocoder(not_zip, LJ)
