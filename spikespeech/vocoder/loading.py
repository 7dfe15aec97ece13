"""Pick a vocoder for a TTS model: Griffin-Lim (default) or a trained HiFi-GAN.

``load_vocoder(spec, mel_spec)``:

* ``None`` or ``"griffin_lim"``: :class:`GriffinLimVocoder` with its defaults;
  ``"griffin_lim:n_iter=64,momentum=0.9"`` sets options (``n_iter``, ``momentum``,
  ``nnls_iter``, ``init``, ``seed``).
* a path: a ``spikespeech.bin.vocoder_train`` output directory (``config.yaml`` +
  ``generator.pth``), a zip holding those two files (at its top level or in one folder), or
  the weights file itself with ``config.yaml`` beside it (or named by ``config=``, as a
  TTS pack's ``vocoder.pth`` + ``vocoder.yaml``) → :class:`HiFiGANVocoder`.

The vocoder's mel analysis must match the TTS model's: a different sample rate, hop or mel
count is a one-line ``VocoderError`` naming the vocoder path; other differences (n_fft,
fmin/fmax…) too unless ``strict=False`` (then a warning).
"""

from __future__ import annotations

import io
import warnings
import zipfile
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import torch
import yaml

from spikespeech.config import ConfigError

from ..errors import SpikespeechError
from .griffin_lim import GriffinLimVocoder
from .hifigan import HiFiGANVocoder, build_generator
from .mel import MelSpec

CONFIG_NAME = "config.yaml"
WEIGHTS_NAME = "generator.pth"
_GL_OPTIONS = {"n_iter": int, "momentum": float, "nnls_iter": int, "init": str, "seed": int}


class VocoderError(SpikespeechError):
    """A vocoder spec, file or setting is unusable (one line naming the path and the problem)."""


@runtime_checkable
class Vocoder(Protocol):
    """Log-mel ``(frames, n_mels)`` → waveform ``(frames * hop,)`` in ``[-1, 1]`` at ``sample_rate``."""

    mel_spec: MelSpec

    @property
    def sample_rate(self) -> int: ...

    def __call__(self, logmel: torch.Tensor) -> torch.Tensor: ...


def load_vocoder(spec: str | Path | None, mel_spec: MelSpec, config: str | Path | None = None,
                 strict: bool = True, device: str | torch.device = "cpu"
                 ) -> GriffinLimVocoder | HiFiGANVocoder:
    """The vocoder named by ``spec`` for features of ``mel_spec`` (see the module docstring)."""
    if spec is None or str(spec) == "griffin_lim" or str(spec).startswith("griffin_lim:"):
        return _griffin_lim(None if spec is None else str(spec), mel_spec)
    path = Path(spec)
    if not path.exists():
        raise VocoderError(f"{path}: no such vocoder (expected 'griffin_lim[:option=value,...]', a "
                           f"vocoder_train output dir, a .zip of one, or its {WEIGHTS_NAME})")
    if path.is_dir():
        config_data, weights = _read_dir(path, config)
    elif zipfile.is_zipfile(path) and not _is_torch_file(path):  # torch.save files are zips too
        config_data, weights = _read_zip(path)
    else:
        config_data, weights = _read_weights_file(path, config)
    return _build_hifigan(path, config_data, weights, mel_spec, strict, device)


def mel_spec_of_model(model: Any) -> MelSpec:
    """:class:`MelSpec` of an ESPnet TTS model (``ESPnetTTSModel``, or its ``LogMelFbank``)."""
    from espnet2.tts.feats_extract.log_mel_fbank import LogMelFbank

    extractor = model if isinstance(model, LogMelFbank) else getattr(model, "feats_extract", None)
    if not isinstance(extractor, LogMelFbank):
        raise VocoderError(f"TTS model: feats_extract is {type(extractor).__name__}, not fbank "
                           f"(LogMelFbank); mel vocoders need log-mel features")
    stft = extractor.stft
    conf = {"fs": extractor.fs, "n_fft": extractor.n_fft, "hop_length": extractor.hop_length,
            "win_length": extractor.win_length, "window": extractor.window, "n_mels": extractor.n_mels,
            "fmin": extractor.fmin, "fmax": extractor.fmax, "htk": extractor.logmel.mel_options["htk"],
            "log_base": extractor.logmel.log_base, "center": stft.center, "normalized": stft.normalized,
            "onesided": stft.onesided}
    try:
        return MelSpec.from_espnet_conf(conf, where="TTS model feats_extract")
    except ConfigError as exc:
        raise VocoderError(str(exc)) from None


def mel_spec_of_config(train_config: dict[str, Any], where: str = "TTS config") -> MelSpec:
    """:class:`MelSpec` of an ESPnet TTS training config (``feats_extract: fbank`` + its conf)."""
    kind = train_config.get("feats_extract", "fbank")
    if kind != "fbank":
        raise VocoderError(f"{where}: feats_extract is {kind!r}, not fbank; "
                           f"mel vocoders need log-mel features")
    try:
        return MelSpec.from_espnet_conf(train_config.get("feats_extract_conf"),
                                        where=f"{where}: feats_extract_conf")
    except ConfigError as exc:
        raise VocoderError(str(exc)) from None


# ---- Griffin-Lim ------------------------------------------------------------------------


def _griffin_lim(spec: str | None, mel_spec: MelSpec) -> GriffinLimVocoder:
    options: dict[str, Any] = {}
    if spec and ":" in spec:
        for item in filter(None, (s.strip() for s in spec.split(":", 1)[1].split(","))):
            key, sep, value = item.partition("=")
            if not sep or key not in _GL_OPTIONS:
                known = ", ".join(f"{k}=..." for k in _GL_OPTIONS)
                raise VocoderError(f"{spec}: bad option {item!r}; known: {known}")
            try:
                options[key] = None if key == "seed" and value == "none" else _GL_OPTIONS[key](value)
            except ValueError:
                kind = _GL_OPTIONS[key].__name__
                raise VocoderError(f"{spec}: {key}={value!r} is not a valid {kind}") from None
    try:
        return GriffinLimVocoder(mel_spec, **options)
    except ValueError as exc:
        raise VocoderError(f"{spec}: {exc}") from None


# ---- HiFi-GAN ---------------------------------------------------------------------------


def _read_dir(path: Path, config: str | Path | None) -> tuple[dict, bytes]:
    weights = path / WEIGHTS_NAME
    config_path = Path(config) if config is not None else path / CONFIG_NAME
    for needed in (config_path, weights):
        if not needed.is_file():
            raise VocoderError(f"{path}: not a vocoder dir (missing {needed.name})")
    return _parse_config(config_path, config_path.read_bytes()), weights.read_bytes()


def _read_weights_file(path: Path, config: str | Path | None) -> tuple[dict, bytes]:
    config_path = Path(config) if config is not None else path.parent / CONFIG_NAME
    if not config_path.is_file():
        raise VocoderError(f"{path}: vocoder config {config_path} not found")
    return _parse_config(config_path, config_path.read_bytes()), path.read_bytes()


def _read_zip(path: Path) -> tuple[dict, bytes]:
    try:
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/")]
            found = {}
            for wanted in (CONFIG_NAME, WEIGHTS_NAME):
                matches = [n for n in names if n.rsplit("/", 1)[-1] == wanted and n.count("/") <= 1]
                if len(matches) != 1:
                    problem = "missing" if not matches else f"{len(matches)} copies of"
                    raise VocoderError(f"{path}: not a vocoder zip ({problem} {wanted})")
                found[wanted] = zf.read(matches[0])
    except (zipfile.BadZipFile, OSError) as exc:
        raise VocoderError(f"{path}: unreadable zip ({exc})") from None
    return _parse_config(path, found[CONFIG_NAME]), found[WEIGHTS_NAME]


def _is_torch_file(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            return any(name == "data.pkl" or name.endswith("/data.pkl") for name in zf.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def _parse_config(where: Path, raw: bytes) -> dict:
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        raise VocoderError(f"{where}: vocoder config is not valid YAML") from None
    if not isinstance(data, dict) or "mel" not in data or "generator_params" not in data:
        raise VocoderError(f"{where}: not a HiFi-GAN vocoder config (needs mel and generator_params)")
    if data.get("vocoder", "hifigan") != "hifigan":
        raise VocoderError(f"{where}: vocoder kind {data['vocoder']!r} is not supported (hifigan)")
    return data


def _build_hifigan(path: Path, data: dict, weights: bytes, mel_spec: MelSpec, strict: bool,
                   device: str | torch.device) -> HiFiGANVocoder:
    try:
        vocoder_mel = MelSpec.from_dict(data["mel"], f"{path}: mel")
        generator = build_generator(data["generator_params"], vocoder_mel, f"{path}: generator_params")
    except ConfigError as exc:
        raise VocoderError(str(exc)) from None
    try:
        differences = mel_spec.check_compatible(vocoder_mel, str(path), strict=strict)
    except ValueError as exc:
        raise VocoderError(str(exc)) from None
    if differences:
        warnings.warn(f"{path}: mel settings differ from the TTS model's ({'; '.join(differences)})",
                      stacklevel=3)
    try:
        state = torch.load(io.BytesIO(weights), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for truncated or foreign files
        raise VocoderError(f"{path}: unreadable {WEIGHTS_NAME} ({type(exc).__name__})") from None
    if not isinstance(state, dict):
        raise VocoderError(f"{path}: {WEIGHTS_NAME} is not a state dict")
    missing, unexpected = _key_mismatch(generator.state_dict(), state)
    if missing or unexpected:
        detail = "; ".join(f"{what} {', '.join(keys[:3])}{'…' if len(keys) > 3 else ''}"
                           for what, keys in (("missing", missing), ("unexpected", unexpected)) if keys)
        raise VocoderError(f"{path}: {WEIGHTS_NAME} does not fit generator_params ({detail})")
    try:
        generator.load_state_dict(state)
    except RuntimeError:
        raise VocoderError(f"{path}: {WEIGHTS_NAME} tensor shapes do not fit generator_params") from None
    return HiFiGANVocoder(generator, vocoder_mel).to(device)


def _key_mismatch(expected: dict, given: dict) -> tuple[list[str], list[str]]:
    return sorted(set(expected) - set(given)), sorted(set(given) - set(expected))
