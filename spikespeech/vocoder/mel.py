"""Log-mel features exactly as ESPnet's TTS ``fbank`` feature extractor computes them.

ESPnet's ``espnet2.tts.feats_extract.log_mel_fbank.LogMelFbank`` (``feats_extract: fbank``)
does: ``torch.stft`` (``center=True``, reflect padding, a periodic ``torch.<window>_window``
of ``win_length`` samples) → amplitude ``sqrt(max(re² + im², 1e-10))`` → librosa's Slaney
mel filterbank (``fmin``, ``fmax``) → ``log_base`` logarithm of ``max(mel, 1e-10)``.
:class:`MelSpec` reproduces that without building ESPnet modules, so vocoders can analyse
and re-synthesise the very features a TTS model was trained on.
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from spikespeech.config import ConfigError, from_dict

AMP_FLOOR = 1e-5  # sqrt of ESPnet's power clamp 1e-10 (log_mel_fbank.py)
MEL_FLOOR = 1e-10  # ESPnet's mel clamp before the log (layers/log_mel.py)

# feats_extract_conf keys of ESPnet's LogMelFbank with the values we can reproduce
_ESPNET_FIXED = {"center": True, "normalized": False, "onesided": True}
_ESPNET_KEYS = {"fs", "n_fft", "win_length", "hop_length", "window", "n_mels", "fmin", "fmax",
                "htk", "log_base", *_ESPNET_FIXED}


@dataclass(frozen=True)
class MelSpec:
    """Log-mel analysis settings; the defaults are ESPnet's LJSpeech FastSpeech2 ``fbank``.

    ``win_length=None`` means ``n_fft``; ``fmin=None`` means 0 Hz and ``fmax=None`` means
    ``fs / 2`` (as ESPnet's ``LogMel``); ``log_base=None`` is the natural logarithm.
    """

    fs: int = 22050  # LJSpeech rate (ESPnet egs2/ljspeech/tts1 conf)
    n_fft: int = 1024  # ESPnet ljspeech tts1 conf
    hop_length: int = 256  # ESPnet ljspeech tts1 conf (≈ 11.6 ms at 22.05 kHz)
    win_length: int | None = 1024  # ESPnet ljspeech tts1 conf (None: n_fft)
    n_mels: int = 80  # ESPnet ljspeech tts1 conf
    fmin: float | None = 80  # ESPnet ljspeech tts1 conf
    fmax: float | None = 7600  # ESPnet ljspeech tts1 conf
    log_base: float | None = 10.0  # LogMelFbank default: log10 of the amplitude mel
    window: str = "hann"  # LogMelFbank default
    htk: bool = False  # LogMelFbank default: Slaney mel scale and area normalisation

    def __post_init__(self):
        for name in ("fs", "n_fft", "hop_length", "n_mels"):
            if getattr(self, name) <= 0:
                raise ValueError(f"MelSpec.{name}: must be positive, got {getattr(self, name)}")
        if not 0 < self.win_length_ <= self.n_fft:
            raise ValueError(f"MelSpec.win_length: must be in 1..n_fft={self.n_fft}, got {self.win_length}")
        if not hasattr(torch, f"{self.window}_window"):
            raise ValueError(f"MelSpec.window: torch has no {self.window}_window")
        if self.fmin_ >= self.fmax_ or self.fmax_ > self.fs / 2:
            raise ValueError(f"MelSpec: need 0 <= fmin < fmax <= fs/2, got fmin={self.fmin} fmax={self.fmax} "
                             f"fs={self.fs}")
        if self.log_base is not None and (self.log_base <= 0 or self.log_base == 1):
            raise ValueError(f"MelSpec.log_base: must be positive and not 1, got {self.log_base}")

    # ---- derived values -------------------------------------------------------------------
    @property
    def win_length_(self) -> int:
        return self.n_fft if self.win_length is None else self.win_length

    @property
    def fmin_(self) -> float:
        return 0.0 if self.fmin is None else float(self.fmin)

    @property
    def fmax_(self) -> float:
        return self.fs / 2 if self.fmax is None else float(self.fmax)

    @property
    def n_freq(self) -> int:
        return self.n_fft // 2 + 1

    def num_frames(self, num_samples: int) -> int:
        """Frames ``features`` gives for ``num_samples`` samples (``center=True``)."""
        return num_samples // self.hop_length + 1

    # ---- construction ---------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, where: str = "MelSpec") -> MelSpec:
        """Strict dict → MelSpec (unknown keys and bad values: one-line ``ConfigError``)."""
        return from_dict(cls, data, where)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_espnet_conf(cls, feats_extract_conf: dict[str, Any] | None, fs: int | str | None = None,
                         where: str = "feats_extract_conf") -> MelSpec:
        """MelSpec of ESPnet's ``fbank`` (LogMelFbank) built with ``feats_extract_conf``.

        Keys missing from the conf take LogMelFbank's defaults (not this class's: e.g. its
        ``fs`` default is 16000). ``fs`` (int, or a string such as ``"22.05k"``) is the
        task-level rate; it must agree with ``feats_extract_conf["fs"]`` when both are given.
        """
        conf = dict(feats_extract_conf or {})
        unknown = sorted(set(conf) - _ESPNET_KEYS)
        if unknown:
            raise ConfigError(f"{where}: not LogMelFbank option(s) {', '.join(unknown)}")
        for key, value in _ESPNET_FIXED.items():
            if conf.pop(key, value) != value:
                raise ConfigError(f"{where}.{key}: only {key}={value} is supported, got {conf.get(key)!r}")
        conf_fs = conf.pop("fs", None)
        rates = [_parse_rate(r, where) for r in (conf_fs, fs) if r is not None]
        if len(rates) == 2 and rates[0] != rates[1]:
            raise ConfigError(f"{where}.fs={rates[0]} disagrees with fs={rates[1]}")
        espnet_defaults = dict(n_fft=1024, win_length=None, hop_length=256, window="hann", n_mels=80,
                               fmin=80, fmax=7600, htk=False, log_base=10.0)
        data = {**espnet_defaults, **conf, "fs": rates[0] if rates else 16000}
        if data["window"] is None:
            raise ConfigError(f"{where}.window: a window is required (got null)")
        return cls.from_dict(data, where)

    # ---- analysis -------------------------------------------------------------------------
    def mel_basis(self, device: torch.device | str | None = None,
                  dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """Librosa mel filterbank ``(n_mels, n_freq)`` (cached per settings)."""
        return _mel_basis(self).to(device=device, dtype=dtype)

    def window_tensor(self, device: torch.device | str | None = None,
                      dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """Analysis window ``(win_length,)``: ``torch.<window>_window`` (periodic), as ESPnet."""
        return getattr(torch, f"{self.window}_window")(self.win_length_, dtype=dtype, device=device)

    def stft(self, wav: torch.Tensor) -> torch.Tensor:
        """Complex STFT ``(..., n_freq, frames)`` of ``wav`` ``(..., N)`` with ESPnet's settings."""
        return torch.stft(wav, self.n_fft, self.hop_length, self.win_length_,
                          window=self.window_tensor(wav.device, wav.dtype), center=True,
                          pad_mode="reflect", return_complex=True)

    def log(self, x: torch.Tensor) -> torch.Tensor:
        """The feature logarithm (``log_base``) of ``x`` (already clamped by the caller)."""
        if self.log_base is None:
            return x.log()
        if self.log_base == 10.0:
            return x.log10()
        if self.log_base == 2.0:
            return x.log2()
        return x.log() / math.log(self.log_base)

    def exp(self, x: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`log`: ``log_base ** x``."""
        return x.exp() if self.log_base is None else torch.pow(self.log_base, x)

    def amplitude_to_logmel(self, amp: torch.Tensor) -> torch.Tensor:
        """Linear amplitude ``(..., n_freq, frames)`` → log-mel ``(..., frames, n_mels)``."""
        mel = torch.matmul(amp.transpose(-1, -2), self.mel_basis(amp.device, amp.dtype).T)
        return self.log(mel.clamp(min=MEL_FLOOR))

    def features(self, wav: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Log-mel of ``wav`` ``(N,)`` → ``(frames, n_mels)``, or ``(B, N)`` → ``(B, frames, n_mels)``.

        ``frames = N // hop_length + 1``; float32 like ESPnet. Needs ``N > n_fft // 2``
        (reflect padding), as ESPnet does.
        """
        wav = torch.as_tensor(wav)
        if wav.dim() not in (1, 2):
            raise ValueError(f"MelSpec.features: expected a waveform (N,) or (B, N), "
                             f"got shape {tuple(wav.shape)}")
        if wav.shape[-1] <= self.n_fft // 2:
            raise ValueError(f"MelSpec.features: {wav.shape[-1]} samples is too short for n_fft={self.n_fft} "
                             f"(need more than {self.n_fft // 2})")
        spec = self.stft(wav.float())
        amp = torch.sqrt((spec.real**2 + spec.imag**2).clamp(min=AMP_FLOOR**2))
        return self.amplitude_to_logmel(amp)

    def check_compatible(self, other: MelSpec, other_name: str, this_name: str = "the TTS model",
                         strict: bool = True) -> list[str]:
        """Differences that make ``other``'s features unusable for this spec.

        Rate, hop and mel count mismatches always raise ``ValueError`` (one line, naming
        ``other_name``); other differences (n_fft, window, fmin/fmax, log base) raise when
        ``strict`` and are returned as messages otherwise.
        """
        hard = [("fs", "sample rate", " Hz"), ("hop_length", "hop length", " samples"),
                ("n_mels", "n_mels", "")]
        for name, label, unit in hard:
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine != theirs:
                raise ValueError(f"{other_name}: {label} {theirs}{unit} does not match "
                                 f"{this_name}'s {mine}{unit}")
        soft = []
        for name in ("n_fft", "win_length_", "window", "fmin_", "fmax_", "log_base", "htk"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine != theirs:
                soft.append(f"{name.rstrip('_')} {theirs} vs {mine}")
        if soft and strict:
            raise ValueError(f"{other_name}: mel settings differ from {this_name}'s ({'; '.join(soft)})")
        return soft


def _parse_rate(rate: int | str, where: str) -> int:
    if isinstance(rate, str):
        import humanfriendly

        try:
            return int(humanfriendly.parse_size(rate))
        except humanfriendly.InvalidSize:
            raise ConfigError(f"{where}.fs: not a sample rate: {rate!r}") from None
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or rate <= 0 or rate != int(rate):
        raise ConfigError(f"{where}.fs: not a sample rate: {rate!r}")
    return int(rate)


@functools.lru_cache(maxsize=16)
def _mel_basis(spec: MelSpec) -> torch.Tensor:
    import librosa

    basis = librosa.filters.mel(sr=spec.fs, n_fft=spec.n_fft, n_mels=spec.n_mels, fmin=spec.fmin_,
                                fmax=spec.fmax_, htk=spec.htk)
    return torch.from_numpy(np.asarray(basis, dtype=np.float32))
