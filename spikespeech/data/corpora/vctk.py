"""CSTR VCTK Corpus 0.92 (110 English speakers, Edinburgh DataShare) → Kaldi data dirs for TTS.

``VCTK-Corpus-0.92.zip`` holds, without a top folder, ``wav48_silence_trimmed/<spk>/
<spk>_<nnn>_mic1.flac`` and ``…_mic2.flac`` (48 kHz, leading/trailing silence trimmed, two
microphones), ``txt/<spk>/<spk>_<nnn>.txt`` (one sentence each), ``speaker-info.txt`` and
``README.txt``; it is extracted into ``WORK_DIR/VCTK-Corpus-0.92/``. ``data_dir`` holds that
folder (or the zip), or is the corpus folder itself. Licence: CC BY 4.0 (Yamagishi, Veaux and
MacDonald, "CSTR VCTK Corpus", University of Edinburgh, 2019) — attribute it in derived work.

Utterances: every ``txt/<spk>/<utt>.txt`` with audio from microphone ``mic`` (default
``mic1``); the utterance id is ``<utt>`` (``p225_001``), the speaker the folder name (``pNNN``;
also ``s5``, who is in 0.92). Speakers without transcripts (``p315``, whose text was lost) and
audio without a transcript or transcripts without audio are skipped, with counts logged.

Sets ``train``, ``dev``, ``test``:

* by default as ESPnet's ``vctk/tts1`` ``data_prep.sh``: of each speaker's utterances in id
  order, the last ``n_dev + n_test`` (5 + 5) are held out, the first ``n_test`` of those being
  ``test`` (ESPnet ``eval1``) and the last ``n_dev`` ``dev``; the rest is ``train``
  (``tr_no_dev``). Every speaker is seen in training;
* with ``held_out_speakers``: ``test`` is every utterance of those speakers (unseen voices),
  ``dev`` the last ``n_dev`` of each other speaker and ``train`` the rest (``n_test`` unused).
"""

from __future__ import annotations

import argparse
import logging
import os
import stat
import zipfile
from pathlib import Path, PurePosixPath

from ..kaldi import Utterance
from . import select_sets, write_sets
from ._tts import one_line
from .download import DownloadError, MissingDataError, Resource, download, missing_message

SETS = ("train", "dev", "test")
RESOURCE = Resource("VCTK-Corpus-0.92.zip",
                    "https://datashare.ed.ac.uk/bitstream/handle/10283/3443/VCTK-Corpus-0.92.zip",
                    "VCTK-Corpus-0.92", "8a6ba2946b36fcbef0212cad601f4bfa")  # DataShare's published MD5
AUDIO = "wav48_silence_trimmed"
MICS = ("mic1", "mic2")

log = logging.getLogger(__name__)


def _is_corpus(path: Path) -> bool:
    return (path / AUDIO).is_dir() and (path / "txt").is_dir()


def extract_zip(archive: str | Path, dest: str | Path) -> Path:
    """Unpack ``archive`` into ``dest`` once (marker ``dest/.<archive>.extracted``), refusing
    members that would land outside ``dest`` and symlinks; every member is checked before anything
    is written. Members already present with their size are not rewritten."""
    archive, dest = Path(archive), Path(dest)
    marker = dest / f".{archive.name}.extracted"
    if marker.exists():
        return dest
    root = dest.resolve()
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            for m in members:
                name = PurePosixPath(m.filename)
                target = Path(os.path.normpath(root / name))
                if name.is_absolute() or ".." in name.parts or not (
                        target == root or root in target.parents):
                    raise ValueError(f"{archive}: member {m.filename!r} would escape {dest}; "
                                     f"refusing to extract")
                if stat.S_ISLNK(m.external_attr >> 16):
                    raise ValueError(f"{archive}: member {m.filename!r} is a symlink; refusing to extract")
            dest.mkdir(parents=True, exist_ok=True)
            for m in members:
                path = root / m.filename
                if not m.is_dir() and not (path.is_file() and path.stat().st_size == m.file_size):
                    zf.extract(m, root)
    except (zipfile.BadZipFile, EOFError) as error:
        raise ValueError(f"{archive}: cannot extract ({type(error).__name__}: {error})") from None
    try:
        marker.touch()
    except OSError:  # a read-only dest whose contents were extracted already
        pass
    return dest


def find_root(data_dir: str | Path, work_dir: str | Path | None = None,
              download_missing: bool = False) -> Path:
    """The corpus folder: ``data_dir`` itself, ``VCTK-Corpus-0.92`` in ``data_dir``/``work_dir``, or
    that folder extracted from the zip (downloaded into ``data_dir`` first with ``download_missing``)."""
    data_dir = Path(data_dir)
    work_dir = Path(work_dir) if work_dir is not None else data_dir
    if _is_corpus(data_dir):
        return data_dir
    for base in (data_dir, work_dir):
        if _is_corpus(base / RESOURCE.extracted):
            return base / RESOURCE.extracted
    archive = next((d / RESOURCE.archive for d in (data_dir, work_dir) if (d / RESOURCE.archive).is_file()),
                   None)
    if archive is None:
        if not download_missing:
            raise MissingDataError(missing_message("vctk", [RESOURCE], data_dir))
        try:
            archive = download(RESOURCE.url, data_dir / RESOURCE.archive, RESOURCE.md5)
        except DownloadError as error:
            raise DownloadError(f"vctk: download failed ({error}); put {RESOURCE.archive} from "
                                f"{RESOURCE.url} into {data_dir} by hand") from None
    root = extract_zip(archive, work_dir / RESOURCE.extracted)
    if not _is_corpus(root):
        raise ValueError(f"{archive}: extracted, but {root / AUDIO} or {root / 'txt'} is missing "
                         f"(not the expected archive?)")
    return root


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:  # a stray Latin-1 byte should not stop a 44,000-file preparation
        return data.decode("latin-1")


def vctk_utterances(root: str | Path, mic: str = "mic1") -> list[Utterance]:
    """Every transcribed utterance recorded with ``mic`` in the corpus folder ``root``, sorted by id."""
    if mic not in MICS:
        raise ValueError(f"vctk: unknown microphone {mic!r} (choose {' or '.join(MICS)})")
    root = Path(root)
    utts, no_audio, no_text, no_txt_speakers = [], 0, 0, []
    for spk_dir in sorted(p for p in (root / AUDIO).iterdir() if p.is_dir()):
        spk = spk_dir.name
        txt_dir = root / "txt" / spk
        if not txt_dir.is_dir():
            no_txt_speakers.append(spk)
            continue
        texts = {p.stem: p for p in txt_dir.glob("*.txt")}
        audio = {p.name[: -len(f"_{mic}.flac")]: p for p in spk_dir.glob(f"*_{mic}.flac")}
        for utt in sorted(texts):
            if not utt.startswith(f"{spk}_"):
                raise ValueError(f"{texts[utt]}: file name does not start with its speaker folder's "
                                 f"name {spk}_")
            text = one_line(_read_text(texts[utt]))
            if utt not in audio or not text:
                no_audio += 1
                continue
            utts.append(Utterance(utt, spk, str(audio[utt].resolve()), text))
        no_text += len(set(audio) - set(texts))
    if no_txt_speakers:
        log.info("vctk: skipped speaker(s) without transcripts: %s", " ".join(no_txt_speakers))
    if no_audio:
        log.info("vctk: skipped %d transcript(s) without %s audio (or empty)", no_audio, mic)
    if no_text:
        log.info("vctk: skipped %d %s audio file(s) without a transcript", no_text, mic)
    if not utts:
        raise ValueError(f"{root}: no transcribed {mic} utterances under {AUDIO}/ and txt/")
    return utts


def split(utts: list[Utterance], n_dev: int = 5, n_test: int = 5,
          held_out_speakers=()) -> dict[str, list[Utterance]]:
    """``train``/``dev``/``test`` per speaker, or by held-out speakers (see the module docstring)."""
    by_speaker: dict[str, list[Utterance]] = {}
    for u in sorted(utts, key=lambda u: u.utt_id):
        by_speaker.setdefault(u.speaker, []).append(u)
    held = list(dict.fromkeys(held_out_speakers or ()))
    unknown = [s for s in held if s not in by_speaker]
    if unknown:
        raise ValueError(f"vctk: unknown held-out speaker(s) {', '.join(unknown)}")
    if held and len(held) == len(by_speaker):
        raise ValueError("vctk: every speaker is held out; nothing is left for train")
    n_held = n_dev if held else n_dev + n_test
    if n_dev < 1 or (not held and n_test < 1):
        raise ValueError(f"vctk: need n_dev ({n_dev}) >= 1 and n_test ({n_test}) >= 1")
    out: dict[str, list[Utterance]] = {"train": [], "dev": [], "test": []}
    for spk, rows in by_speaker.items():
        if spk in held:
            out["test"] += rows
            continue
        if len(rows) <= n_held:
            raise ValueError(f"vctk: speaker {spk} has {len(rows)} utterances, not more than the {n_held} "
                             f"held out per speaker")
        out["train"] += rows[:-n_held]
        if held:
            out["dev"] += rows[-n_dev:]
        else:  # ESPnet: the first n_test of the held-out tail are eval, the last n_dev dev
            out["test"] += rows[-n_held: len(rows) - n_dev]
            out["dev"] += rows[-n_dev:]
    return out


def prepare(data_dir: str | Path, out_root: str | Path, *, sets=None, download: bool = False,
            work_dir: str | Path | None = None, mic: str = "mic1", n_dev: int = 5, n_test: int = 5,
            held_out_speakers=None) -> dict[str, Path]:
    """Write the VCTK sets under ``out_root``.

    ``data_dir`` holds ``VCTK-Corpus-0.92/`` or ``VCTK-Corpus-0.92.zip`` (or is the corpus
    folder); the zip is extracted into ``work_dir/VCTK-Corpus-0.92`` (default ``data_dir``)
    and, with ``download``, fetched from DataShare first when missing (11 GB).
    """
    chosen = select_sets("vctk", SETS, sets)
    utts = vctk_utterances(find_root(data_dir, work_dir, download), mic)
    return write_sets(split(utts, n_dev, n_test, held_out_speakers), out_root, chosen)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """VCTK options for the command line."""
    parser.add_argument("--mic", choices=MICS, default="mic1", help="microphone (default: mic1)")
    parser.add_argument("--n_dev", type=int, default=5,
                        help="dev utterances per speaker, the last in id order (default: 5, as ESPnet)")
    parser.add_argument("--n_test", type=int, default=5,
                        help="test utterances per speaker, just before the dev ones (default: 5, as ESPnet)")
    parser.add_argument("--held_out_speakers", nargs="+", default=None, metavar="SPK",
                        help="make test every utterance of these speakers instead (unseen voices)")
