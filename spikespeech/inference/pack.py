"""Packed models: one zip (or directory) with everything needed to decode or synthesize.

Layout::

    meta.yaml          format version, task (asr | tts), spikespeech version, sample rate,
                       (tts) text frontend language and vocoder kind; ESPnet's
                       ``yaml_files`` / ``files`` index, so ESPnet's unpack() reads the pack too
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

import hashlib
import os
import secrets
import shutil
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import torch
import yaml

from .. import __version__
from ..atomic import remove_stale_temps, temp_prefix
from ..cache import CACHE_ENV, user_cache_dir
from ..checksum import file_sha256
from ..errors import SpikespeechError, first_line
from ..espnet.weights import CheckpointError

FORMAT_VERSION = 1
REQUIRED = ("meta.yaml", "config.yaml", "model.pth", "tokens.txt")
# every other file a pack can hold (see the layout above); other zip members are ignored
OPTIONAL = ("feats_stats.npz", "bpe.model", "pitch_stats.npz", "energy_stats.npz", "vocoder.yaml",
            "vocoder.pth", "spk2sid", "MODEL_CARD.md")
MEMBERS = frozenset(REQUIRED + OPTIONAL)
# Zip-bomb caps. Shipped packs unpack to ~10 MB; a 100 M-parameter ESPnet conformer (~400 MB of
# float32 weights) plus a HiFi-GAN (~60 MB) still fits in 1 GiB, a bomb filling the disk does not.
MAX_UNPACKED_BYTES = 1 << 30
# a pack has len(MEMBERS) files at most; a hand-made zip may add a few (ignored), not thousands
MAX_MEMBERS = 64
# cache entries kept: the two shipped packs and a few of one's own; ~10 MB each
KEEP_CACHED_PACKS = 8
RESOLVED = "resolved_config.yaml"  # the config with absolute paths, in a cache entry
# (config key holding a stats_file, its name in the pack): normalisation statistics
_STATS = {
    "asr": (("normalize_conf", "feats_stats.npz"),),
    "tts": (("normalize_conf", "feats_stats.npz"), ("pitch_normalize_conf", "pitch_stats.npz"),
            ("energy_normalize_conf", "energy_stats.npz")),
}


# ESPnet's own pack index (espnet2/main_funcs/pack_funcs.py): with it, ESPnet's ``unpack()`` gives
# the keyword arguments of its Speech2Text / Text2Speech, e.g.
# ``Speech2Text(**unpack("model.zip", "out"))`` once ``spikespeech.espnet.register()`` has run
ESPNET_META = {
    "asr": {"yaml_files": {"asr_train_config": "config.yaml"}, "files": {"asr_model_file": "model.pth"}},
    "tts": {"yaml_files": {"train_config": "config.yaml"}, "files": {"model_file": "model.pth"}},
}


class PackError(SpikespeechError):
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
    return _write_pack(output, "asr", args, files, meta, f"{config} + {model}")


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
    return _write_pack(output, "tts", args, files, meta, f"{config} + {model}")


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


def _write_pack(output: str | Path, task: str, args: dict, files: dict, meta: dict,
                sources: str) -> Path:
    """Stage ``files`` (paths, or ``str`` contents), config and meta beside ``output``, check
    that the staged pack opens and its model loads, then rename into place, so a failure
    never leaves a partial or broken pack (same filesystem). ``sources`` names the inputs."""
    output = Path(output)
    meta = {"format_version": FORMAT_VERSION, "task": task, "spikespeech_version": __version__, **meta,
            **ESPNET_META[task]}
    output.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(output.parent)  # what a killed 'spikespeech pack' left
    with tempfile.TemporaryDirectory(dir=output.parent, prefix=temp_prefix(output.name),
                                     suffix=".tmp") as tmp:
        stage = Path(tmp) / "pack"
        stage.mkdir()
        for name, src in files.items():
            if isinstance(src, str):
                (stage / name).write_text(src, encoding="utf-8")
            else:
                shutil.copyfile(src, stage / name)
        (stage / "config.yaml").write_text(yaml.safe_dump(args, sort_keys=False), encoding="utf-8")
        (stage / "meta.yaml").write_text(yaml.safe_dump(meta, sort_keys=False), encoding="utf-8")
        _check_loads(stage, Path(tmp) / RESOLVED, task, sources, output)
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


def _check_loads(stage: Path, resolved: Path, task: str, sources: str, output: Path) -> None:
    """Open the staged pack as ``open_pack`` would and build + strictly load its model
    (and vocoder): a pack that would not load is never written."""
    try:
        _meta, args = _check(stage, output, task)
    except PackError as exc:
        reason = str(exc).removeprefix(f"{output}: ")
        raise PackError(f"{sources}: {reason}; {output} not written") from None
    resolved.write_text(_resolved(args, task, stage), encoding="utf-8")
    from ..espnet.strict import StrictASRTask, StrictTTSTask  # imports ESPnet: only when writing a pack

    loader = StrictASRTask if task == "asr" else StrictTTSTask
    try:
        model, _ = loader.build_model_from_file(resolved, stage / "model.pth", "cpu")
        if (stage / "vocoder.pth").is_file():
            loader.build_vocoder_from_file(stage / "vocoder.yaml", stage / "vocoder.pth", model, "cpu")
    except (MemoryError, torch.OutOfMemoryError):
        raise
    except Exception as exc:  # whatever ESPnet raises on a bad config or weights
        raise PackError(f"{sources}: the model does not load ({_reason(exc, 'weights')}); "
                        f"{output} not written") from None


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
    """A pack opened for use: absolute file paths. A zip's files live in the pack cache
    (:func:`cache_dir`), a directory pack's in that directory."""

    root: Path
    config: Path
    model: Path
    meta: dict
    card: str | None

    @property
    def sample_rate(self) -> int:
        return int(self.meta.get("sample_rate", 16000))

    def file(self, name: str) -> Path | None:
        """``root/name`` if the pack has it (e.g. ``vocoder.pth``), else ``None``."""
        path = self.root / name
        return path if path.is_file() else None


class LoadedModel:
    """What :class:`~spikespeech.inference.Transcriber` and
    :class:`~spikespeech.inference.Synthesizer` share: the opened :attr:`pack`, its model card,
    and use in a ``with`` block. Closing removes nothing: the unpacked files are the pack
    cache's, shared between runs and bounded by :data:`KEEP_CACHED_PACKS`."""

    pack: UnpackedModel

    @property
    def card(self) -> str | None:
        return self.pack.card

    def close(self) -> None:
        """Release the model (nothing on disk to remove)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_pack(path: str | Path, task: str = "asr") -> UnpackedModel:
    """Open a packed ``task`` model (zip or directory); relative paths in its config become
    absolute paths inside the pack.

    A zip is unpacked once into the pack cache, keyed by its SHA-256, and checked then;
    later opens of the same zip reuse that entry. Anything malformed raises PackError
    ("PATH: not a valid pack: ...").
    """
    path = Path(path)
    if not path.exists():
        raise PackError(f"{path}: model not found")
    if path.is_dir():
        meta, args = _check(path, path, task)
        config = _cached_config(_resolved(args, task, path), path)
        return _unpacked(path, config, meta)
    if not zipfile.is_zipfile(path):
        raise PackError(f"{path}: not a packed model (expected a .zip made by 'spikespeech pack')")
    cache = cache_dir(path)
    remove_stale_temps(cache)  # what a run killed mid-unpack left
    entry = cache / _sha256(path)
    if not _complete(entry):
        _unpack_into(entry, path, task)
    meta = _read_yaml(entry / "meta.yaml", path, "meta.yaml")
    _check_meta(meta, path, task)
    _use(entry, cache)
    return _unpacked(entry, entry / RESOLVED, meta)


def cache_dir(label: str | Path = "pack") -> Path:
    """Where opened zip packs are unpacked: the ``packs`` dir of :func:`spikespeech.cache.user_cache_dir`."""
    directory = user_cache_dir("packs")
    if directory is None:
        raise PackError(f"{label}: cannot unpack: no writable cache directory (set {CACHE_ENV})")
    return directory


def _sha256(path: Path) -> str:
    try:
        return file_sha256(path)
    except OSError as exc:
        raise PackError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _complete(entry: Path) -> bool:
    # the resolved config is written last, and the entry renamed into place after it
    return all((entry / name).is_file() for name in (*REQUIRED, RESOLVED))


def _unpack_into(entry: Path, zip_path: Path, task: str) -> None:
    """Unpack and check ``zip_path`` in a temporary sibling of ``entry``, then rename it
    into place (another process unpacking the same zip may win the race: then use theirs)."""
    stage = Path(tempfile.mkdtemp(dir=entry.parent, prefix=temp_prefix(entry.name), suffix=".tmp"))
    try:
        _extract(zip_path, stage)
        _meta, args = _check(stage, zip_path, task)
        # paths name the entry's final place
        (stage / RESOLVED).write_text(_resolved(args, task, entry), encoding="utf-8")
        _publish(stage, entry, _complete)
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)


def _extract(zip_path: Path, dest: Path) -> None:
    """Extract the members a pack can have (:data:`MEMBERS`) into ``dest``, within the caps."""
    try:
        with zipfile.ZipFile(zip_path) as zf:
            members = _pack_members(zf, zip_path)
            budget = MAX_UNPACKED_BYTES
            for info in members:
                budget -= _extract_member(zf, info, dest / info.filename, budget, zip_path)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise _invalid(zip_path, f"damaged zip ({first_line(exc)})") from None
    except (NotImplementedError, RuntimeError) as exc:  # compression method, encryption
        raise _invalid(zip_path, f"unreadable zip ({first_line(exc)})") from None
    except OSError as exc:  # reading the zip, or writing the cache (disk full)
        raise PackError(f"{zip_path}: cannot unpack into {dest.parent}: "
                        f"{exc.strerror or exc}") from None


def _pack_members(zf: zipfile.ZipFile, zip_path: Path) -> list[zipfile.ZipInfo]:
    """The directory's entries that a pack needs, after checking count, names and sizes."""
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise _invalid(zip_path, f"{len(infos)} entries (a pack has at most {len(MEMBERS)})")
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename
        if "/" in name or "\\" in name or name.startswith("."):
            raise PackError(f"{zip_path}: unexpected entry {name!r} in model pack")
        if name in members:
            raise _invalid(zip_path, f"duplicate entry {name!r}")
        if name in MEMBERS:
            members[name] = info
    total = sum(info.file_size for info in members.values())
    if total > MAX_UNPACKED_BYTES:
        raise _invalid(zip_path, f"its files unpack to {total / 2**20:.0f} MiB, over the "
                                 f"{MAX_UNPACKED_BYTES / 2**20:.0f} MiB limit")
    return list(members.values())


def _extract_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path, budget: int,
                    zip_path: Path) -> int:
    """Copy one member, counting bytes (a zip's sizes can lie); returns the bytes written."""
    written = 0
    with zf.open(info) as src, dest.open("wb") as out:
        while chunk := src.read(1 << 20):
            written += len(chunk)
            if written > info.file_size or written > budget:
                raise _invalid(zip_path, f"{info.filename} unpacks to more than the zip says")
            out.write(chunk)
    return written


def _check(root: Path, label: Path, task: str) -> tuple[dict, dict]:
    """``(meta, config)`` of the pack files in ``root``, checked; errors name ``label``."""
    missing = [name for name in REQUIRED if not (root / name).is_file()]
    if missing:
        raise _invalid(label, f"missing {', '.join(missing)}")
    meta = _read_yaml(root / "meta.yaml", label, "meta.yaml")
    _check_meta(meta, label, task)
    args = _read_yaml(root / "config.yaml", label, "config.yaml")
    # every file the config needs must come from the pack: ESPnet would look a relative
    # path up in the current directory
    for name in _needed_files(args, task):
        if not (root / name).is_file():
            raise _invalid(label, f"missing {name}")
    return meta, args


def _read_yaml(path: Path, label: Path, name: str) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:  # also a python tag, which safe_load refuses
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise _invalid(label, f"{name} is not valid YAML{line}") from None
    except (OSError, UnicodeDecodeError):
        raise _invalid(label, f"{name} is not readable text") from None
    if not isinstance(data, dict):
        raise _invalid(label, f"{name} is not a mapping (got {type(data).__name__})")
    return data


def _check_meta(meta: dict, label: Path, task: str) -> None:
    if meta.get("task") != task:
        raise PackError(f"{label}: packed model is for task {meta.get('task')!r}, not {task!r}")
    version = meta.get("format_version", 0)
    if not isinstance(version, int):
        raise _invalid(label, f"meta.yaml format_version {version!r} is not a number")
    if version > FORMAT_VERSION:
        raise PackError(f"{label}: pack format {version} is newer than this spikespeech")


def _needed_files(args: dict, task: str) -> list[str]:
    """Names of the pack files ``args`` uses besides the weights and tokens."""
    names = []
    for key, name in _STATS[task]:
        if args.get(key.replace("_conf", "")) == "global_mvn":
            names.append(name)
    if args.get("bpemodel") or args.get("token_type") == "bpe":
        names.append("bpe.model")
    return names


def _resolved(args: dict, task: str, root: Path) -> str:
    """``args`` with its files as absolute paths under ``root``, as YAML text."""
    args = dict(args, token_list=str(root / "tokens.txt"))
    for key, name in _STATS[task]:
        if name in _needed_files(args, task):
            conf = args.get(key)
            args[key] = dict(conf if isinstance(conf, dict) else {}, stats_file=str(root / name))
    if "bpe.model" in _needed_files(args, task):
        args["bpemodel"] = str(root / "bpe.model")
    return yaml.safe_dump(args, sort_keys=False)


def _cached_config(text: str, label: Path) -> Path:
    """A directory pack's resolved config, kept in the cache under the hash of its text."""
    cache = cache_dir(label)
    remove_stale_temps(cache)
    entry = cache / hashlib.sha256(text.encode("utf-8")).hexdigest()
    if not (entry / RESOLVED).is_file():
        stage = Path(tempfile.mkdtemp(dir=cache, prefix=temp_prefix(entry.name), suffix=".tmp"))
        try:
            (stage / RESOLVED).write_text(text, encoding="utf-8")
            _publish(stage, entry, lambda done: (done / RESOLVED).is_file())
        finally:
            if stage.exists():
                shutil.rmtree(stage, ignore_errors=True)
    _use(entry, cache)
    return entry / RESOLVED


def _publish(stage: Path, entry: Path, complete) -> None:
    """Rename the finished ``stage`` to the cache ``entry``. If ``entry`` exists (a concurrent
    open won the race, or a leftover is there), keep it when ``complete(entry)``, else replace it."""
    try:
        os.rename(stage, entry)
    except OSError:
        if not complete(entry):
            _remove_entry(entry)
            os.rename(stage, entry)


def _use(entry: Path, cache: Path) -> None:
    """Mark ``entry`` as the newest, and drop all but the :data:`KEEP_CACHED_PACKS` newest."""
    os.utime(entry)
    entries = [p for p in cache.iterdir() if not p.name.startswith(".") and p.is_dir()]
    entries.sort(key=_mtime, reverse=True)
    for old in entries[KEEP_CACHED_PACKS:]:
        if old != entry:
            _remove_entry(old)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:  # removed by another process meanwhile
        return 0.0


def _remove_entry(entry: Path) -> None:
    # renamed away first, so that no process sees a half-removed entry; a kill during the
    # removal leaves a temp name that later runs sweep
    doomed = entry.parent / f"{temp_prefix(entry.name)}{secrets.token_hex(4)}.tmp"
    try:
        os.rename(entry, doomed)
    except OSError:  # already gone
        return
    shutil.rmtree(doomed, ignore_errors=True)


def _unpacked(root: Path, config: Path, meta: dict) -> UnpackedModel:
    card = root / "MODEL_CARD.md"
    text = card.read_text(encoding="utf-8", errors="replace") if card.is_file() else None
    return UnpackedModel(root, config, root / "model.pth", meta, text)


def invalid_pack(label: str | Path, exc: BaseException) -> PackError:
    """``exc``, raised while building or loading a pack's model, as a one-line PackError."""
    return _invalid(label, _reason(exc, "model.pth"))


def _reason(exc: BaseException, weights: str) -> str:
    # a checkpoint error's own path is a copy (cache, staging): name what the user knows
    return f"{weights}: {exc.reason}" if isinstance(exc, CheckpointError) else first_line(exc)


def _invalid(label: str | Path, what: str) -> PackError:
    return PackError(f"{label}: not a valid pack: {what}")


def _existing(value: str, config: Path, key: str) -> Path:
    path = Path(value)
    for candidate in (path, config.parent / path, config.parent.parent / path):
        if candidate.is_file():
            return candidate
    raise PackError(f"{config}: {key} points to {value}, which does not exist")
