"""HiFi-GAN vocoder training: a compact GAN loop on ESPnet's generator, discriminator and losses.

Each step draws ``batch_size`` random segments of ``segment_frames`` mel frames (and the
matching ``segment_frames * hop`` samples) from the training audio, held in memory, and
makes one generator update (``λ_mel·L1(log-mel) + λ_adv·adv + λ_fm·feature-matching``,
HiFi-GAN's 45 / 1 / 2) and one discriminator update (least-squares GAN), as ESPnet's
``gan_tts`` and kan-bayashi's ParallelWaveGAN recipes do. During the first
``generator_warmup_steps`` steps only the generator learns, from the mel loss alone.

Robustness: ``checkpoint.pth`` (both networks, optimisers, LR schedules, step, sampling RNG)
is written atomically (temporary file, then ``os.replace``) every ``save_interval`` steps,
so a run killed at any moment resumes with ``resume=True`` from its last checkpoint; a step
whose loss or gradient norm is not finite is skipped (no parameter update) with a logged
message, and training stops after ``max_nonfinite_steps`` such steps in a row.

Outputs in ``output_dir``: ``checkpoint.pth``, ``train_config.yaml`` (the resolved training
config), ``train.log`` (when run from the command line), and the vocoder itself:
``generator.pth`` (weights, weight norm folded) + ``config.yaml`` (``mel`` MelSpec and
``generator_params``), refreshed at every checkpoint and at the end.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import yaml

from spikespeech.atomic import atomic_write, atomic_write_text
from spikespeech.config import ConfigError, from_dict, to_dict

from .griffin_lim import GriffinLimVocoder
from .hifigan import build_discriminator, build_generator, export_generator, generator_params
from .mel import MelSpec

log = logging.getLogger("spikespeech.vocoder.training")

CHECKPOINT = "checkpoint.pth"
GENERATOR = "generator.pth"
CONFIG = "config.yaml"
TRAIN_CONFIG = "train_config.yaml"
FORMAT_VERSION = 1
MEL_LOSS_KEYS = {"fmin", "fmax", "log_base"}


class TrainingDiverged(RuntimeError):
    """Too many consecutive steps had non-finite losses or gradients."""


@dataclass
class TrainOptions:
    """Optimisation and bookkeeping settings (``train:`` in the config file)."""

    batch_size: int = 4  # CPU-sized; ESPnet / ParallelWaveGAN HiFi-GAN recipes use 16 on a GPU
    segment_frames: int = 32  # 32 × hop 256 = 8192 samples: ParallelWaveGAN hifigan.v1 batch_max_steps
    lambda_mel: float = 45.0  # ESPnet gan_tts default (vits.py, jets.py)
    lambda_feat_match: float = 2.0  # ESPnet gan_tts default (vits.py, jets.py)
    lambda_adv: float = 1.0  # ESPnet gan_tts default (vits.py, jets.py)
    generator_warmup_steps: int = 0  # generator-only (mel loss) steps before the GAN starts
    learning_rate: float = 2.0e-4  # official HiFi-GAN, ESPnet gan_tts (both networks)
    adam_betas: tuple[float, float] = (0.8, 0.99)  # official HiFi-GAN, ESPnet gan_tts, PWG hifigan.v1
    lr_decay: float = 1.0  # per-step ExponentialLR gamma; 1.0 = constant (short runs; guess)
    grad_clip: float = 10.0  # max gradient norm per network (guess: a guard, rarely active)
    log_interval: int = 10  # steps between loss lines
    valid_interval: int = 100  # steps between validations (also at the end)
    save_interval: int = 50  # steps between checkpoints (also at the end)
    valid_max_utts: int = 4  # validation utterances used (the first ones of valid wav.scp)
    valid_max_frames: int = 400  # validation clips cropped to this many frames (CPU time)
    max_nonfinite_steps: int = 20  # consecutive skipped (non-finite) steps before giving up
    seed: int = 0

    def __post_init__(self):
        for name in ("batch_size", "segment_frames", "log_interval", "valid_interval", "save_interval",
                     "valid_max_utts", "valid_max_frames", "max_nonfinite_steps"):
            if getattr(self, name) <= 0:
                raise ValueError(f"train.{name}: must be positive, got {getattr(self, name)}")
        if self.generator_warmup_steps < 0:
            raise ValueError(f"train.generator_warmup_steps: must be >= 0, got {self.generator_warmup_steps}")
        if not 0 < self.lr_decay <= 1:
            raise ValueError(f"train.lr_decay: must be in (0, 1], got {self.lr_decay}")


@dataclass
class VocoderTrainConfig:
    """A vocoder training config file (see ``spikespeech/conf/vocoder/hifigan_small.yaml``)."""

    mel: MelSpec = field(default_factory=MelSpec)
    generator_params: dict[str, Any] = field(default_factory=dict)  # ESPnet HiFiGANGenerator kwargs
    discriminator_params: dict[str, Any] = field(default_factory=dict)  # HiFiGANMultiScaleMultiPeriod...
    # ESPnet's loss classes' kwargs; defaults: ESPnet gan_tts / ParallelWaveGAN hifigan.v1 (sums, not means)
    generator_adv_loss_params: dict[str, Any] = field(
        default_factory=lambda: {"average_by_discriminators": False, "loss_type": "mse"})
    discriminator_adv_loss_params: dict[str, Any] = field(
        default_factory=lambda: {"average_by_discriminators": False, "loss_type": "mse"})
    feat_match_loss_params: dict[str, Any] = field(default_factory=lambda: {
        "average_by_discriminators": False, "average_by_layers": False, "include_final_outputs": True})
    # MelSpectrogramLoss on top of the analysis of ``mel``; ESPnet gan_tts: full band, natural log
    mel_loss_params: dict[str, Any] = field(
        default_factory=lambda: {"fmin": 0, "fmax": None, "log_base": None})
    train: TrainOptions = field(default_factory=TrainOptions)

    def __post_init__(self):
        unknown = sorted(set(self.mel_loss_params) - MEL_LOSS_KEYS)
        if unknown:
            raise ValueError(f"mel_loss_params: unknown key(s) {', '.join(unknown)} (analysis settings come "
                             f"from mel:); valid keys: {', '.join(sorted(MEL_LOSS_KEYS))}")
        self.generator_params = generator_params(self.generator_params, self.mel)

    @classmethod
    def load(cls, path: str | Path, fs: int | None = None) -> VocoderTrainConfig:
        """Read a YAML config; ``fs`` overrides ``mel.fs``. Errors are one-line ``ConfigError``s."""
        from spikespeech.config import load_yaml

        data = load_yaml(path)
        if fs is not None:
            data["mel"] = {**(data.get("mel") or {}), "fs": fs}
        return from_dict(cls, data, str(path))

    def model_dict(self) -> dict[str, Any]:
        """The settings a checkpoint must agree with to be resumed (everything but ``train``)."""
        data = to_dict(self)
        data.pop("train")
        return data


# ---- data -------------------------------------------------------------------------------


@dataclass
class TrainingClip:
    utt_id: str
    wav: torch.Tensor  # (frames * hop,) float32, zero-padded past the audio
    mel: torch.Tensor  # (frames, n_mels) log-mel of the audio (MelSpec.features)


def read_wav_scp(path: str | Path) -> list[tuple[str, str]]:
    """``(utt_id, audio path)`` rows of a Kaldi ``wav.scp`` (plain paths; no pipe commands)."""
    from spikespeech.audio.recording import pipe_command
    from spikespeech.data.kaldi import unique_entries

    path = Path(path)
    rows = []
    for entry in unique_entries(path, ids="utterance id"):
        if not entry.value:
            raise ValueError(f"{path}:{entry.number}: expected '<utt_id> <audio path>', got {entry.key!r}")
        if pipe_command(entry.value) is not None:
            raise ValueError(f"{path}:{entry.number}: pipe commands are not supported; give an audio file")
        rows.append((entry.key, entry.value))
    if not rows:
        raise ValueError(f"{path}: no utterances")
    return rows


def load_utterances(scp: str | Path, mel_spec: MelSpec, min_frames: int = 1) -> list[TrainingClip]:
    """Read (resampling to ``mel_spec.fs``) and analyse every file of ``scp``; utterances with
    fewer than ``min_frames`` frames are dropped with a log line (an error if none is left)."""
    from spikespeech.audio.io import AudioError, load_audio

    utts, short = [], []
    hop = mel_spec.hop_length
    for utt, audio in read_wav_scp(scp):
        try:
            samples = torch.from_numpy(load_audio(audio, mel_spec.fs))
        except AudioError as exc:
            raise ValueError(f"{scp}: utterance {utt}: {exc}") from None
        if samples.numel() <= mel_spec.n_fft // 2:
            short.append(utt)
            continue
        mel = mel_spec.features(samples)
        if mel.shape[0] < min_frames:
            short.append(utt)
            continue
        wav = torch.nn.functional.pad(samples, (0, mel.shape[0] * hop - samples.numel()))
        utts.append(TrainingClip(utt, wav, mel))
    if short:
        log.info("%s: dropped %d utterance(s) shorter than %d frames (%s)", scp, len(short), min_frames,
                 ", ".join(short[:5]) + ("…" if len(short) > 5 else ""))
    if not utts:
        raise ValueError(f"{scp}: no utterance has at least {min_frames} frames "
                         f"({min_frames * hop / mel_spec.fs:.2f} s); lower --segment_frames")
    return utts


def sample_batch(utts: list[TrainingClip], batch_size: int, frames: int, hop: int, generator: torch.Generator
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Random aligned segments: log-mel ``(B, n_mels, frames)`` and audio ``(B, 1, frames * hop)``."""
    mels, wavs = [], []
    for _ in range(batch_size):
        utt = utts[int(torch.randint(len(utts), (1,), generator=generator))]
        start = int(torch.randint(utt.mel.shape[0] - frames + 1, (1,), generator=generator))
        mels.append(utt.mel[start:start + frames].T)
        wavs.append(utt.wav[start * hop:(start + frames) * hop])
    return torch.stack(mels), torch.stack(wavs)[:, None]


# ---- checkpoints --------------------------------------------------------------------------


def atomic_torch_save(obj: Any, path: Path) -> None:
    atomic_write(path, lambda tmp: torch.save(obj, tmp))


def export_vocoder(output_dir: Path, generator: torch.nn.Module, config: VocoderTrainConfig, step: int,
                   valid_mel_l1: float | None) -> None:
    """Write ``generator.pth`` and ``config.yaml`` (what :func:`load_vocoder` reads)."""
    state, params = export_generator(generator, config.generator_params, config.mel)
    atomic_torch_save(state, output_dir / GENERATOR)
    meta = {"vocoder": "hifigan", "format_version": FORMAT_VERSION, "mel": config.mel.to_dict(),
            "generator_params": params, "steps": step, "valid_mel_l1": valid_mel_l1}
    atomic_write_text(output_dir / CONFIG, yaml.safe_dump(meta, sort_keys=False))


# ---- training ---------------------------------------------------------------------------


class _Trainer:
    """Networks, losses, optimisers and the sampling RNG of one training run (checkpointable)."""

    def __init__(self, config: VocoderTrainConfig, device: torch.device):
        from espnet2.gan_tts.hifigan.loss import (
            DiscriminatorAdversarialLoss,
            FeatureMatchLoss,
            GeneratorAdversarialLoss,
            MelSpectrogramLoss,
        )

        self.config, self.device, opts = config, device, config.train
        mel = config.mel
        torch.manual_seed(opts.seed)  # reproducible network initialisation
        self.generator = build_generator(config.generator_params, mel).to(device)
        self.discriminator = build_discriminator(config.discriminator_params).to(device)
        try:
            self.gen_adv_loss = GeneratorAdversarialLoss(**config.generator_adv_loss_params)
            self.dis_adv_loss = DiscriminatorAdversarialLoss(**config.discriminator_adv_loss_params)
            self.feat_match_loss = FeatureMatchLoss(**config.feat_match_loss_params)
        except (TypeError, AssertionError) as exc:
            raise ConfigError(f"loss params: {exc}") from None
        self.mel_loss = MelSpectrogramLoss(fs=mel.fs, n_fft=mel.n_fft, hop_length=mel.hop_length,
                                           win_length=mel.win_length_, window=mel.window, n_mels=mel.n_mels,
                                           **config.mel_loss_params).to(device)
        betas = tuple(opts.adam_betas)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), opts.learning_rate, betas=betas)
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), opts.learning_rate, betas=betas)
        self.sched_g = torch.optim.lr_scheduler.ExponentialLR(self.opt_g, opts.lr_decay)
        self.sched_d = torch.optim.lr_scheduler.ExponentialLR(self.opt_d, opts.lr_decay)
        self.rng = torch.Generator().manual_seed(opts.seed)
        self.step = 0
        self.nonfinite_in_a_row = 0
        self.skipped_steps = 0
        self.valid_mel_l1: float | None = None

    # -- checkpoint --
    def state_dict(self) -> dict[str, Any]:
        return {"format_version": FORMAT_VERSION, "step": self.step, "model_config": self.config.model_dict(),
                "generator": self.generator.state_dict(), "discriminator": self.discriminator.state_dict(),
                "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
                "sched_g": self.sched_g.state_dict(), "sched_d": self.sched_d.state_dict(),
                "rng": self.rng.get_state(), "skipped_steps": self.skipped_steps,
                "valid_mel_l1": self.valid_mel_l1}

    def load_state_dict(self, state: dict[str, Any], path: Path) -> None:
        if state.get("model_config") != self.config.model_dict():
            old, new = state.get("model_config") or {}, self.config.model_dict()
            keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
            raise ConfigError(f"{path}: checkpoint was trained with different {', '.join(keys)}; "
                              f"use the same config or a new --output_dir")
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.sched_g.load_state_dict(state["sched_g"])
        self.sched_d.load_state_dict(state["sched_d"])
        self.rng.set_state(state["rng"].cpu())
        self.step = int(state["step"])
        self.skipped_steps = int(state.get("skipped_steps", 0))
        self.valid_mel_l1 = state.get("valid_mel_l1")

    def save(self, output_dir: Path) -> None:
        atomic_torch_save(self.state_dict(), output_dir / CHECKPOINT)
        export_vocoder(output_dir, self.generator, self.config, self.step, self.valid_mel_l1)

    # -- steps --
    def _update(self, loss: torch.Tensor, module: torch.nn.Module, optimizer, what: str) -> bool:
        """Backward + clipped step; ``False`` (nothing updated, message logged) if non-finite."""
        optimizer.zero_grad(set_to_none=True)
        if not torch.isfinite(loss):
            log.warning("step %d: non-finite %s loss (%s); step skipped", self.step, what, loss.item())
            return False
        loss.backward()
        clip = self.config.train.grad_clip
        norm = torch.nn.utils.clip_grad_norm_(module.parameters(), clip if clip > 0 else math.inf)
        if not torch.isfinite(norm):
            optimizer.zero_grad(set_to_none=True)
            log.warning("step %d: non-finite %s gradient norm (%s); step skipped",
                        self.step, what, norm.item())
            return False
        optimizer.step()
        return True

    def train_step(self, mel: torch.Tensor, wav: torch.Tensor) -> dict[str, float]:
        """One generator (+ discriminator) update on ``mel (B, n_mels, T)``, ``wav (B, 1, T*hop)``."""
        opts = self.config.train
        self.step += 1
        self.generator.train()
        self.discriminator.train()
        gan = self.step > opts.generator_warmup_steps
        wav_hat = self.generator(mel)
        mel_loss = self.mel_loss(wav_hat, wav)
        stats = {"mel": mel_loss.item()}
        g_loss = opts.lambda_mel * mel_loss
        if gan:
            self.discriminator.requires_grad_(False)  # the generator step needs no D weight gradients
            try:
                out_hat = self.discriminator(wav_hat)
                with torch.no_grad():
                    out_real = self.discriminator(wav)
            finally:
                self.discriminator.requires_grad_(True)
            adv = self.gen_adv_loss(out_hat)
            feat_match = self.feat_match_loss(out_hat, out_real)
            g_loss = g_loss + opts.lambda_adv * adv + opts.lambda_feat_match * feat_match
            stats.update(adv=adv.item(), feat_match=feat_match.item())
        stats["generator"] = g_loss.item()
        ok = self._update(g_loss, self.generator, self.opt_g, "generator")
        if ok and gan:
            real, fake = self.dis_adv_loss(self.discriminator(wav_hat.detach()), self.discriminator(wav))
            d_loss = real + fake
            stats.update(discriminator=d_loss.item())
            ok = self._update(d_loss, self.discriminator, self.opt_d, "discriminator")
        self.sched_g.step()
        self.sched_d.step()
        if ok:
            self.nonfinite_in_a_row = 0
        else:
            self.skipped_steps += 1
            self.nonfinite_in_a_row += 1
            if self.nonfinite_in_a_row >= opts.max_nonfinite_steps:
                raise TrainingDiverged(f"step {self.step}: {self.nonfinite_in_a_row} non-finite steps in a "
                                       f"row; giving up (lower train.learning_rate or check the audio)")
        return stats

    @torch.no_grad()
    def validate(self, utts: list[TrainingClip], vocoder=None) -> float:
        """Mean L1 between the log-mel input and the log-mel of the generated audio (the TTS
        features: ``mel`` settings), over the first ``valid_max_utts`` utterances."""
        opts, mel_spec = self.config.train, self.config.mel
        self.generator.eval()
        total = 0.0
        chosen = utts[:opts.valid_max_utts]
        for utt in chosen:
            mel = utt.mel[:opts.valid_max_frames]
            if vocoder is None:
                wav = self.generator(mel.T[None].to(self.device))[0, 0].float().cpu()
            else:
                wav = vocoder(mel)
            again = mel_spec.features(wav)[:mel.shape[0]]
            total += (again - mel).abs().mean().item()
        return total / len(chosen)


def train(config: VocoderTrainConfig, train_scp: str | Path, output_dir: str | Path, max_steps: int,
          valid_scp: str | Path | None = None, resume: bool = False, device: str = "cpu") -> Path:
    """Train (or resume) a HiFi-GAN vocoder up to ``max_steps`` generator steps; returns ``output_dir``."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    opts, mel_spec = config.train, config.mel
    checkpoint = output_dir / CHECKPOINT
    if checkpoint.exists() and not resume:
        raise ValueError(f"{output_dir}: has a {CHECKPOINT}; pass --resume true to continue it, "
                         f"or choose a new --output_dir")
    trainer = _Trainer(config, torch.device(device))
    if checkpoint.exists():
        try:
            state = torch.load(checkpoint, map_location=device, weights_only=True)
        except Exception as exc:  # a truncated file can only come from outside this program
            raise ValueError(f"{checkpoint}: unreadable checkpoint ({type(exc).__name__})") from None
        trainer.load_state_dict(state, checkpoint)
        log.info("resumed from %s at step %d", checkpoint, trainer.step)
    elif resume:
        log.info("%s: no checkpoint yet; starting from step 0", output_dir)
    atomic_write_text(output_dir / TRAIN_CONFIG, yaml.safe_dump(to_dict(config), sort_keys=False))

    train_utts = load_utterances(train_scp, mel_spec, min_frames=opts.segment_frames)
    valid_utts = load_utterances(valid_scp, mel_spec) if valid_scp is not None else []
    seconds = sum(u.wav.numel() for u in train_utts) / mel_spec.fs
    log.info("train: %d utterances (%.1f min); valid: %d; generator %.2fM / discriminator %.2fM parameters",
             len(train_utts), seconds / 60, len(valid_utts),
             sum(p.numel() for p in trainer.generator.parameters()) / 1e6,
             sum(p.numel() for p in trainer.discriminator.parameters()) / 1e6)
    if valid_utts and trainer.step == 0:
        reference = trainer.validate(valid_utts, GriffinLimVocoder(mel_spec))
        log.info("valid mel-L1 of Griffin-Lim (reference): %.4f", reference)

    started, done_before = time.perf_counter(), trainer.step
    hop, frames = mel_spec.hop_length, opts.segment_frames
    while trainer.step < max_steps:
        mel, wav = sample_batch(train_utts, opts.batch_size, frames, hop, trainer.rng)
        stats = trainer.train_step(mel.to(device), wav.to(device))
        step = trainer.step
        if step % opts.log_interval == 0 or step == max_steps:
            rate = (time.perf_counter() - started) / max(step - done_before, 1)
            losses = " ".join(f"{k} {v:.4f}" for k, v in stats.items())
            log.info("step %d: %s (%.2f s/step)", step, losses, rate)
        if valid_utts and (step % opts.valid_interval == 0 or step == max_steps):
            trainer.valid_mel_l1 = trainer.validate(valid_utts)
            log.info("step %d: valid mel-L1 %.4f", step, trainer.valid_mel_l1)
        if step % opts.save_interval == 0 or step == max_steps:
            trainer.save(output_dir)
    if not (output_dir / GENERATOR).exists() or trainer.step == done_before:
        trainer.save(output_dir)  # resumed past max_steps: make sure the vocoder files exist
    if trainer.skipped_steps:
        log.info("%d step(s) skipped for non-finite values", trainer.skipped_steps)
    log.info("done at step %d: %s", trainer.step, output_dir / GENERATOR)
    return output_dir


__all__ = ["TrainOptions", "TrainingDiverged", "TrainingClip", "VocoderTrainConfig", "export_vocoder",
           "load_utterances", "read_wav_scp", "sample_batch", "train"]
