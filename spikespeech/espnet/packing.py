"""Packed models: one zip (or directory) with everything needed to decode or synthesize.

Layout::

    meta.yaml          format version, task (asr | tts), spikespeech version, sample rate,
                       (tts) text frontend language and vocoder kind
    config.yaml        the ESPnet training config, with file paths made relative to the pack
    model.pth          weights (state dict; loaded weights-only and strictly)
    tokens.txt         token list
    feats_stats.npz    global-MVN statistics (if the model normalises)
    bpe.model          sentencepiece model (asr, if BPE tokens)
    pitch_stats.npz    (tts) pitch / energy normalisation statistics
    energy_stats.npz
    vocoder.yaml       (tts, optional) HiFi-GAN config and generator weights;
    vocoder.pth        without them synthesis uses Griffin-Lim
    spk2sid            (tts, multi-speaker) speaker name → id
    MODEL_CARD.md      optional model card
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from .. import __version__

FORMAT_VERSION = 1
REQUIRED = ("meta.yaml", "config.yaml", "model.pth")
# (config key holding a stats_file, its name in the pack): normalisation statistics
_STATS = {
    "asr": (("normalize_conf", "feats_stats.npz"),),
    "tts": (("normalize_conf", "feats_stats.npz"), ("pitch_normalize_conf", "pitch_stats.npz"),
            ("energy_normalize_conf", "energy_stats.npz")),
}


class PackError(ValueError):
    """A model pack is missing, malformed, or cannot be written (message names the path)."""


def pack_asr_model(config: str | Path, model: str | Path, output: str | Path,
                   card: str | Path | None = None) -> Path:
    """Bundle an ESPnet ASR ``config.yaml`` + weights into ``output`` (``.zip`` or directory).

    Written to a temporary sibling first and renamed, so a failure never leaves a partial pack.
    """
    config = Path(config)
    args, files = _read_training_config(config, model, card, "asr")
    if not args.get("token_type"):
        raise PackError(f"{config}: no token_type (char, bpe, word…): tokens could not become text")
    if args.get("bpemodel"):
        files["bpe.model"] = _existing(args["bpemodel"], config, "bpemodel")
        args["bpemodel"] = "bpe.model"
    meta = {"encoder": args.get("encoder"), "sample_rate": sample_rate_of(args)}
    return _write_pack(output, "asr", args, files, meta)


def pack_tts_model(config: str | Path, model: str | Path, output: str | Path, *, language: str,
                   card: str | Path | None = None, vocoder: str | Path | None = None,
                   spk2sid: str | Path | None = None) -> Path:
    """Bundle an ESPnet TTS ``config.yaml`` + weights (+ an optional HiFi-GAN ``vocoder``
    dir from ``spikespeech.bin.vocoder_train``) into ``output``. ``language`` names the text
    frontend (``en``, ``zh``) that turned transcripts into the model's phoneme tokens;
    ``spk2sid`` (ESPnet's speaker-name → id table) is required for multi-speaker models."""
    from ..text import LANGUAGES

    config = Path(config)
    if language not in LANGUAGES:
        raise PackError(f"language {language!r}: unknown (known: {', '.join(LANGUAGES)})")
    args, files = _read_training_config(config, model, card, "tts")
    if args.get("token_type") != "phn" or args.get("g2p") not in (None, "none"):
        raise PackError(f"{config}: expects pre-phonemised text (token_type: phn, g2p: none), got "
                        f"token_type {args.get('token_type')!r}, g2p {args.get('g2p')!r}")
    meta = {"tts": args.get("tts"), "sample_rate": tts_sample_rate_of(args), "language": language,
            "vocoder": "griffin_lim"}
    if vocoder is not None:
        vocoder = Path(vocoder)
        for name, src in (("vocoder.yaml", "config.yaml"), ("vocoder.pth", "generator.pth")):
            if not (vocoder / src).is_file():
                raise PackError(f"{vocoder}: not a vocoder dir (missing {src})")
            files[name] = vocoder / src
        meta["vocoder"] = "hifigan"
    tts_conf = args.get("tts_conf") or {}
    if tts_conf.get("num_speakers") or tts_conf.get("spks"):
        if spk2sid is None:
            raise PackError(f"{config}: multi-speaker model: give its spk2sid table")
    if spk2sid is not None:
        if not Path(spk2sid).is_file():
            raise PackError(f"{spk2sid}: speaker table not found")
        files["spk2sid"] = Path(spk2sid)
    return _write_pack(output, "tts", args, files, meta)


def _read_training_config(config: Path, model: str | Path, card, task: str) -> tuple[dict, dict]:
    """``(args with pack-relative paths, {name in pack: source file})`` of an ESPnet config."""
    model = Path(model)
    for path, what in ((config, "config"), (model, "model weights")):
        if not path.is_file():
            raise PackError(f"{path}: {what} file not found")
    try:
        args = yaml.safe_load(config.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        raise PackError(f"{config}: invalid YAML") from None
    if not isinstance(args, dict) or "token_list" not in args:
        raise PackError(f"{config}: not an ESPnet {task.upper()} training config (no token_list)")
    if card is not None and not Path(card).is_file():
        raise PackError(f"{card}: model card not found")
    files: dict[str, Path | str] = {"model.pth": model}
    tokens = args["token_list"]
    if isinstance(tokens, list):
        files["tokens.txt"] = "\n".join(tokens) + "\n"  # text, written as is
    else:
        files["tokens.txt"] = _existing(tokens, config, "token_list")
    args["token_list"] = "tokens.txt"
    for key, name in _STATS[task]:
        stats = (args.get(key) or {}).get("stats_file")
        if stats and args.get(key.replace("_conf", "")) == "global_mvn":
            files[name] = _existing(stats, config, f"{key}.stats_file")
            args[key]["stats_file"] = name
    if card is not None:
        files["MODEL_CARD.md"] = Path(card)
    return args, files


def _write_pack(output: str | Path, task: str, args: dict, files: dict, meta: dict) -> Path:
    """Stage ``files`` (paths, or ``str`` contents), config and meta beside ``output``, then
    rename into place, so a failure never leaves a partial pack (same filesystem)."""
    output = Path(output)
    meta = {"format_version": FORMAT_VERSION, "task": task, "spikespeech_version": __version__, **meta}
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output.parent, prefix=f".{output.name}.") as tmp:
        stage = Path(tmp) / "pack"
        stage.mkdir()
        for name, src in files.items():
            if isinstance(src, str):
                (stage / name).write_text(src, encoding="utf-8")
            else:
                shutil.copyfile(src, stage / name)
        (stage / "config.yaml").write_text(yaml.safe_dump(args, sort_keys=False), encoding="utf-8")
        (stage / "meta.yaml").write_text(yaml.safe_dump(meta, sort_keys=False), encoding="utf-8")
        if output.suffix == ".zip":
            tmp_zip = Path(tmp) / "pack.zip"
            with zipfile.ZipFile(tmp_zip, "w", zipfile.ZIP_DEFLATED) as zf:
                for path in sorted(stage.iterdir()):
                    zf.write(path, path.name)
            os.replace(tmp_zip, output)
        else:
            if output.exists():
                raise PackError(f"{output}: already exists (give a new directory or a .zip path)")
            os.replace(stage, output)
    return output


def sample_rate_of(args: dict) -> int:
    """The model's input rate: ``frontend_conf.fs`` (ESPnet's default frontend: 16 kHz)."""
    fs = (args.get("frontend_conf") or {}).get("fs", 16000)
    if isinstance(fs, str):  # ESPnet accepts "16k"
        fs = int(float(fs.lower().rstrip("k")) * 1000) if fs.lower().endswith("k") else int(fs)
    return int(fs)


def tts_sample_rate_of(args: dict) -> int:
    """A TTS model's output rate: ``feats_extract_conf.fs`` (ESPnet's default: 24 kHz)."""
    return int((args.get("feats_extract_conf") or {}).get("fs", 24000))


@dataclass
class UnpackedModel:
    """A pack opened for use: absolute file paths, valid while ``cleanup`` is not called."""

    root: Path
    config: Path
    model: Path
    meta: dict
    card: str | None
    _tmp: tempfile.TemporaryDirectory | None = None

    @property
    def sample_rate(self) -> int:
        return int(self.meta.get("sample_rate", 16000))

    def cleanup(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


    def file(self, name: str) -> Path | None:
        """``root/name`` if the pack has it (e.g. ``vocoder.pth``), else ``None``."""
        path = self.root / name
        return path if path.is_file() else None


def open_pack(path: str | Path, task: str = "asr") -> UnpackedModel:
    """Open a packed ``task`` model (zip or directory); relative paths in its config become
    absolute.

    Call ``cleanup()`` on the result when done (it removes the extracted files).
    """
    path = Path(path)
    if not path.exists():
        raise PackError(f"{path}: model not found")
    if path.is_file() and not zipfile.is_zipfile(path):
        raise PackError(f"{path}: not a packed model (expected a .zip made by 'spikespeech pack')")
    tmp = tempfile.TemporaryDirectory(prefix="spikespeech-model-")
    try:
        return _open(path, tmp, task)
    except BaseException:
        tmp.cleanup()
        raise


def _open(path: Path, tmp: tempfile.TemporaryDirectory, task: str) -> UnpackedModel:
    root = path
    if path.is_file():
        root = Path(tmp.name) / "model"
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                if "/" in name or "\\" in name or name.startswith("."):
                    raise PackError(f"{path}: unexpected entry {name!r} in model pack")
            zf.extractall(root)
    missing = [name for name in REQUIRED if not (root / name).is_file()]
    if missing:
        raise PackError(f"{path}: not a packed model (missing {', '.join(missing)})")
    meta = yaml.safe_load((root / "meta.yaml").read_text(encoding="utf-8")) or {}
    if meta.get("task") != task:
        raise PackError(f"{path}: packed model is for task {meta.get('task')!r}, not {task!r}")
    if int(meta.get("format_version", 0)) > FORMAT_VERSION:
        raise PackError(f"{path}: pack format {meta['format_version']} is newer than this spikespeech")
    args = yaml.safe_load((root / "config.yaml").read_text(encoding="utf-8"))
    args["token_list"] = str(root / "tokens.txt")
    for key, name in _STATS[task]:
        if (root / name).is_file():
            args[key]["stats_file"] = str(root / name)
    if (root / "bpe.model").is_file():
        args["bpemodel"] = str(root / "bpe.model")
    resolved = Path(tmp.name) / "resolved_config.yaml"
    resolved.write_text(yaml.safe_dump(args, sort_keys=False), encoding="utf-8")
    card = root / "MODEL_CARD.md"
    return UnpackedModel(root, resolved, root / "model.pth", meta,
                         card.read_text(encoding="utf-8") if card.is_file() else None, tmp)


def _existing(value: str, config: Path, key: str) -> Path:
    path = Path(value)
    for candidate in (path, config.parent / path, config.parent.parent / path):
        if candidate.is_file():
            return candidate
    raise PackError(f"{config}: {key} points to {value}, which does not exist")
