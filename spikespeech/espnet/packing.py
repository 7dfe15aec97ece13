"""Packed ASR models: one zip (or directory) with everything needed to decode.

Layout::

    meta.yaml        format version, task, spikespeech version, sample rate, parameter count
    config.yaml      the ESPnet training config, with file paths made relative to the pack
    model.pth        weights (state dict; loaded weights-only and strictly)
    tokens.txt       token list
    feats_stats.npz  global-MVN statistics (if the model normalises)
    bpe.model        sentencepiece model (if BPE tokens)
    MODEL_CARD.md    optional model card
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


class PackError(ValueError):
    """A model pack is missing, malformed, or cannot be written (message names the path)."""


def pack_asr_model(config: str | Path, model: str | Path, output: str | Path,
                   card: str | Path | None = None) -> Path:
    """Bundle an ESPnet ASR ``config.yaml`` + weights into ``output`` (``.zip`` or directory).

    Written to a temporary sibling first and renamed, so a failure never leaves a partial pack.
    """
    config, model, output = Path(config), Path(model), Path(output)
    for path, what in ((config, "config"), (model, "model weights")):
        if not path.is_file():
            raise PackError(f"{path}: {what} file not found")
    try:
        args = yaml.safe_load(config.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        raise PackError(f"{config}: invalid YAML") from None
    if not isinstance(args, dict) or "token_list" not in args:
        raise PackError(f"{config}: not an ESPnet ASR training config (no token_list)")
    if not args.get("token_type"):
        raise PackError(f"{config}: no token_type (char, bpe, word…): tokens could not become text")
    if card is not None and not Path(card).is_file():
        raise PackError(f"{card}: model card not found")

    files: dict[str, Path] = {"model.pth": model}
    tokens = args["token_list"]
    token_text = "\n".join(tokens) + "\n" if isinstance(tokens, list) else None
    if token_text is None:
        files["tokens.txt"] = _existing(tokens, config, "token_list")
    args["token_list"] = "tokens.txt"
    stats = (args.get("normalize_conf") or {}).get("stats_file")
    if args.get("normalize") == "global_mvn" and stats:
        files["feats_stats.npz"] = _existing(stats, config, "normalize_conf.stats_file")
        args["normalize_conf"]["stats_file"] = "feats_stats.npz"
    if args.get("bpemodel"):
        files["bpe.model"] = _existing(args["bpemodel"], config, "bpemodel")
        args["bpemodel"] = "bpe.model"
    if card is not None:
        files["MODEL_CARD.md"] = Path(card)
    meta = {
        "format_version": FORMAT_VERSION, "task": "asr", "spikespeech_version": __version__,
        "sample_rate": sample_rate_of(args), "encoder": args.get("encoder"),
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    # staged beside the output, so the final rename is atomic (same filesystem)
    with tempfile.TemporaryDirectory(dir=output.parent, prefix=f".{output.name}.") as tmp:
        stage = Path(tmp) / "pack"
        stage.mkdir()
        for name, src in files.items():
            shutil.copyfile(src, stage / name)
        if token_text is not None:
            (stage / "tokens.txt").write_text(token_text, encoding="utf-8")
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


def open_pack(path: str | Path) -> UnpackedModel:
    """Open a packed model (zip or directory); relative paths in its config become absolute.

    Call ``cleanup()`` on the result when done (it removes the extracted files).
    """
    path = Path(path)
    if not path.exists():
        raise PackError(f"{path}: model not found")
    if path.is_file() and not zipfile.is_zipfile(path):
        raise PackError(f"{path}: not a packed model (expected a .zip made by 'spikespeech pack')")
    tmp = tempfile.TemporaryDirectory(prefix="spikespeech-model-")
    try:
        return _open(path, tmp)
    except BaseException:
        tmp.cleanup()
        raise


def _open(path: Path, tmp: tempfile.TemporaryDirectory) -> UnpackedModel:
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
    if meta.get("task") != "asr":
        raise PackError(f"{path}: packed model is for task {meta.get('task')!r}, not 'asr'")
    if int(meta.get("format_version", 0)) > FORMAT_VERSION:
        raise PackError(f"{path}: pack format {meta['format_version']} is newer than this spikespeech")
    args = yaml.safe_load((root / "config.yaml").read_text(encoding="utf-8"))
    args["token_list"] = str(root / "tokens.txt")
    if (root / "feats_stats.npz").is_file():
        args["normalize_conf"]["stats_file"] = str(root / "feats_stats.npz")
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
