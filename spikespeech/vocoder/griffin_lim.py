"""Fast Griffin-Lim vocoder: log-mel → linear amplitude → phase by fast Griffin-Lim.

1. **Mel → linear amplitude.** The amplitude spectrogram ``A`` (``n_freq × frames``) with
   ``mel = B A`` (``B`` the librosa mel basis) is under-determined. We start from the
   pseudo-inverse ``pinv(B) mel`` clamped to ``≥ 1e-5`` (ESPnet's amplitude floor) and refine
   it with ``nnls_iter`` Lee–Seung multiplicative updates ``A ← A ⊙ Bᵀmel / (BᵀB A)``, which
   decrease ``‖B A − mel‖²`` and keep ``A ≥ 0`` (a few iterations of non-negative least
   squares, not run to convergence). Bins outside ``[fmin, fmax]`` have no mel weight and
   stay at the floor.
2. **Phase.** Fast Griffin-Lim (Perraudin, Balazs & Søndergaard, "A fast Griffin-Lim
   algorithm", WASPAA 2013): Griffin-Lim's alternating projections with the momentum step
   ``t_n = c_n + α (c_n − c_{n−1})``; ``α = 0.99``, the default momentum of
   ``librosa.griffinlim`` and ``torchaudio.transforms.GriffinLim``.
   ``torch.stft``/``torch.istft`` use the analysis settings of :class:`MelSpec`.

Defaults were chosen on real LJSpeech clips (numbers in the ``GriffinLimVocoder``
docstring): 32 iterations cost 0.035-0.05 s per second of 22.05 kHz audio on one CPU thread.
"""

from __future__ import annotations

import functools
import math
from typing import Literal

import numpy as np
import torch

from .mel import AMP_FLOOR, MelSpec


@functools.lru_cache(maxsize=16)
def _pinv_basis(spec: MelSpec) -> torch.Tensor:
    """Pseudo-inverse of the mel basis ``(n_freq, n_mels)`` (float64 SVD, stored as float32)."""
    return torch.linalg.pinv(spec.mel_basis(dtype=torch.float64)).float()


def mel_to_linear(logmel: torch.Tensor, mel_spec: MelSpec, nnls_iter: int = 30) -> torch.Tensor:
    """Log-mel ``(..., frames, n_mels)`` → linear amplitude ``(..., n_freq, frames)``, ``≥ 1e-5``.

    ``nnls_iter`` multiplicative non-negative least-squares updates refine the clamped
    pseudo-inverse (0: the clamped pseudo-inverse alone).
    """
    mel = mel_spec.exp(logmel.float()).transpose(-1, -2)  # (..., n_mels, frames)
    basis = mel_spec.mel_basis(mel.device)  # (n_mels, n_freq)
    amp = torch.matmul(_pinv_basis(mel_spec).to(mel.device), mel).clamp(min=AMP_FLOOR)
    if nnls_iter > 0:
        numerator = torch.matmul(basis.T, mel)
        for _ in range(nnls_iter):
            amp = amp * numerator / torch.matmul(basis.T, torch.matmul(basis, amp)).clamp(min=1e-12)
        amp = amp.clamp(min=AMP_FLOOR)
    return amp


def griffin_lim(amp: torch.Tensor, mel_spec: MelSpec, n_iter: int = 32, momentum: float = 0.99,
                init: Literal["random", "zeros"] = "random", seed: int | None = 0) -> torch.Tensor:
    """Fast Griffin-Lim: amplitude ``(..., n_freq, frames)`` → waveform ``(..., frames * hop)``.

    ``init="random"`` starts from uniform random phases (drawn from ``seed``: the same input
    gives the same output; ``seed=None`` uses torch's global generator), ``"zeros"`` from
    zero phase. ``momentum=0`` is classic Griffin-Lim. Samples past
    ``(frames - 1) * hop`` (beyond the last frame centre) are zero. Not clipped.
    """
    if not 0 <= momentum < 2:
        raise ValueError(f"griffin_lim: momentum must be in [0, 2), got {momentum}")
    if n_iter < 0:
        raise ValueError(f"griffin_lim: n_iter must be >= 0, got {n_iter}")
    frames, hop = amp.shape[-1], mel_spec.hop_length
    if frames == 0:
        return amp.new_zeros(amp.shape[:-2] + (0,))
    # torch.stft's reflect padding needs more than n_fft // 2 samples: pad very short inputs
    # with silent frames, trimmed again below
    min_frames = (mel_spec.n_fft // 2) // hop + 2
    padded = amp if frames >= min_frames else torch.nn.functional.pad(amp, (0, min_frames - frames))
    length = (padded.shape[-1] - 1) * hop
    window = mel_spec.window_tensor(amp.device, amp.dtype)

    def stft(y: torch.Tensor) -> torch.Tensor:
        return torch.stft(y, mel_spec.n_fft, hop, mel_spec.win_length_, window=window, center=True,
                          pad_mode="reflect", return_complex=True)

    def istft(spec: torch.Tensor) -> torch.Tensor:
        return torch.istft(spec, mel_spec.n_fft, hop, mel_spec.win_length_, window=window, center=True,
                           length=length)

    with torch.no_grad():
        if init == "random":
            generator = None if seed is None else torch.Generator(amp.device).manual_seed(seed)
            phase = torch.rand(padded.shape, generator=generator, device=amp.device, dtype=amp.dtype)
            angles = torch.polar(torch.ones_like(padded), 2 * math.pi * phase)
        elif init == "zeros":
            angles = torch.complex(torch.ones_like(padded), torch.zeros_like(padded))
        else:
            raise ValueError(f"griffin_lim: init must be 'random' or 'zeros', got {init!r}")
        previous = torch.zeros_like(angles)
        for _ in range(n_iter):
            rebuilt = stft(istft(padded * angles))
            # t_n = c_n + α(c_n − c_{n−1}) ∝ c_n − α/(1+α)·c_{n−1}; only its phase is kept
            angles = rebuilt - previous * (momentum / (1 + momentum)) if momentum else rebuilt
            angles = angles / (angles.abs() + 1e-16)
            previous = rebuilt
        wav = istft(padded * angles)
    out_len = frames * hop
    if wav.shape[-1] >= out_len:
        return wav[..., :out_len]
    return torch.nn.functional.pad(wav, (0, out_len - wav.shape[-1]))


class GriffinLimVocoder:
    """Log-mel → waveform with mel pseudo-inverse + NNLS refinement and fast Griffin-Lim.

    Call with log-mel ``(frames, n_mels)`` (ESPnet ``fbank`` features of ``mel_spec``, as a
    TTS model outputs them after de-normalisation) → float32 waveform ``(frames * hop,)`` in
    ``[-1, 1]``; a batch ``(B, frames, n_mels)`` gives ``(B, frames * hop)``.

    Measured on 8 LJSpeech clips (58 s, ESPnet LJSpeech fbank), one thread of a shared 2-core
    CPU: re-analysed log10-mel L1 vs the input 0.063 / 0.053 / 0.046 / 0.043 / 0.042 at
    8 / 16 / 32 / 64 / 100 iterations (0.92 dB at 32); time per second of audio ≈ 0.025 /
    0.035-0.048 / 0.08 s at 16 / 32 / 64. 32 iterations is the default: past it each doubling
    gains < 0.004 while doubling the cost. ``nnls_iter`` 0 / 10 / 30 / 100 gives 0.052 / 0.047
    / 0.046 / 0.046 at 32 iterations; 30 costs ≈ 0.005 s per second of audio.
    """

    def __init__(self, mel_spec: MelSpec | None = None, n_iter: int = 32, momentum: float = 0.99,
                 nnls_iter: int = 30, init: Literal["random", "zeros"] = "random", seed: int | None = 0):
        self.mel_spec = mel_spec or MelSpec()
        self.n_iter = n_iter  # 32: see the class docstring
        self.momentum = momentum  # 0.99: Perraudin et al. 2013, librosa, torchaudio
        self.nnls_iter = nnls_iter  # 30: ~0.005 s per second of audio; see the class docstring
        self.init = init
        self.seed = seed
        if n_iter < 0 or nnls_iter < 0:
            raise ValueError(f"GriffinLimVocoder: n_iter and nnls_iter must be >= 0, "
                             f"got {n_iter}, {nnls_iter}")
        if not 0 <= momentum < 2:
            raise ValueError(f"GriffinLimVocoder: momentum must be in [0, 2), got {momentum}")
        if init not in ("random", "zeros"):
            raise ValueError(f"GriffinLimVocoder: init must be 'random' or 'zeros', got {init!r}")

    @property
    def sample_rate(self) -> int:
        return self.mel_spec.fs

    @property
    def fs(self) -> int:  # ESPnet's Text2Speech reads ``vocoder.fs``
        return self.mel_spec.fs

    @property
    def hop_length(self) -> int:
        return self.mel_spec.hop_length

    def to(self, *args, **kwargs) -> GriffinLimVocoder:
        """No-op for ``nn.Module``-style callers: Griffin-Lim runs on the input's device."""
        return self

    def __call__(self, logmel: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Log-mel ``(frames, n_mels)`` or ``(B, frames, n_mels)`` → waveform ``(..., frames * hop)``."""
        logmel = check_logmel(logmel, self.mel_spec, "GriffinLimVocoder")
        amp = mel_to_linear(logmel, self.mel_spec, self.nnls_iter)
        wav = griffin_lim(amp, self.mel_spec, self.n_iter, self.momentum, self.init, self.seed)
        return wav.clamp(-1.0, 1.0)

    def __repr__(self) -> str:
        return (f"GriffinLimVocoder(fs={self.sample_rate}, n_iter={self.n_iter}, momentum={self.momentum}, "
                f"nnls_iter={self.nnls_iter}, init={self.init!r})")


def check_logmel(logmel: torch.Tensor | np.ndarray, mel_spec: MelSpec, who: str) -> torch.Tensor:
    logmel = torch.as_tensor(logmel)
    if logmel.dim() not in (2, 3) or logmel.shape[-1] != mel_spec.n_mels:
        n_mels = mel_spec.n_mels
        raise ValueError(f"{who}: expected log-mel (frames, {n_mels}) or (B, frames, {n_mels}), "
                         f"got shape {tuple(logmel.shape)}")
    if not torch.isfinite(logmel).all():
        raise ValueError(f"{who}: log-mel contains NaN or infinite values")
    return logmel.float()
