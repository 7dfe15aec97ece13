"""``spikespeech synthesize``: text to speech with a packed SpikeVoice model."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..argtypes import sample_rate, speaker_name, speed
from ..speaking_rate import MAX_SPEED, MIN_SPEED

HELP = "synthesize speech from text with a packed spiking TTS model"
DESCRIPTION = (
    "Synthesize TEXT (or each line of --text-file, or of stdin when neither is given) into "
    "-o OUTPUT. An OUTPUT ending in .wav (or .flac) receives one file (several lines are "
    "joined with a short pause); other audio extensions (.mp3, .ogg…) are refused; any other "
    "OUTPUT is a directory that receives one numbered file per line (0001.wav, …). Files are "
    "written atomically. Text is normalised (numbers, dates, currency, abbreviations) and "
    "phonemised offline; long texts are split at sentence boundaries. A line that cannot be "
    "spoken is reported on stderr and the others are still synthesized; the exit code is then "
    "1. Arguments, the text and the output path are checked before the model loads."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("text", nargs="?", help="text to speak (default: --text-file or stdin)")
    p.add_argument("-o", "--output", required=True, help="output .wav or .flac file, or a directory")
    p.add_argument("--text-file", help="one utterance per line ('-' for stdin)")
    p.add_argument("--model", help="packed TTS model (.zip or directory from 'spikespeech pack'); "
                   "default: the shipped Kathleen SpikeVoice model")
    p.add_argument("--vocoder", help="'griffin_lim', or a HiFi-GAN dir from spikespeech.bin."
                   "vocoder_train (default: the pack's vocoder, else Griffin-Lim)")
    p.add_argument("--speed", type=speed, default=1.0,
                   help=f"speaking rate, >1 faster, {MIN_SPEED:g} to {MAX_SPEED:g} (default 1)")
    p.add_argument("--speaker", type=speaker_name, help="speaker name or id (multi-speaker models)")
    p.add_argument("--sample-rate", type=sample_rate, help="resample the output to this rate (8000..192000)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--energy", action="store_true",
                   help="print the acoustic model's firing rate and energy vs its ANN per utterance, "
                   "whole and per scope (encoder, variance adaptor, decoder, postnet; no vocoder)")
    p.add_argument("-v", "--verbose", action="store_true", help="print duration and RTF per utterance")
    p.add_argument("--no-progress", action="store_true", help="never show a progress bar (shown "
                   "on a terminal for more than 3 lines, or a text of more than 3 sentences)")


def run(args: argparse.Namespace) -> int:
    from .checks import model_path
    from .main import CLIError

    # everything that can be checked without the model is, first: loading takes seconds
    model = model_path(args.model, "tts")
    output = Path(args.output)
    audio_format = _output_format(output)
    if args.vocoder not in (None, "griffin_lim") and not Path(args.vocoder).exists():
        raise CLIError(f"--vocoder {args.vocoder}: not found (give griffin_lim or a HiFi-GAN "
                       "dir, zip or generator.pth)")
    lines = _read_lines(args, CLIError)

    from tqdm import tqdm

    from ..audio import resample
    from ..inference.pack import PackError
    from ..inference.synthesizer import Synthesizer

    try:
        synthesizer = Synthesizer(model, device=args.device, vocoder=args.vocoder)
    except PackError as exc:
        raise CLIError(str(exc)) from None
    with synthesizer:
        try:
            synthesizer.speaker_id(args.speaker)  # a bad --speaker fails before any work
        except ValueError as exc:
            raise CLIError(str(exc)) from None
        rate = args.sample_rate or synthesizer.sample_rate
        failed, done = 0, []
        by_line = len(lines) > 3 and not args.no_progress  # else by sentence, for a long text
        sentences = _SentenceBar(show=not (by_line or args.no_progress))
        for number, line in tqdm(lines, disable=None if by_line else True, unit="line", file=sys.stderr):
            where = f"line {number}" if len(lines) > 1 or args.text_file else "text"
            try:
                result = synthesizer.synthesize(line, speed=args.speed, speaker=args.speaker,
                                                energy=args.energy, progress=sentences.update)
            except ValueError as exc:
                _error(f"{where}: {exc}")
                failed += 1
                continue
            wav = result.wav if rate == result.sample_rate else resample(result.wav, result.sample_rate, rate)
            if audio_format:
                done.append(wav)  # joined and written once all lines are done
            elif not _write(output / f"{number:04d}.wav", wav, rate, "wav"):
                failed += 1
            if args.verbose or args.energy:
                _report(where, result, args)
        if audio_format and done:
            failed += not _write(output, _join(done, rate), rate, audio_format)
        elif audio_format:
            _error(f"{output}: not written (no line could be synthesized)")
            failed = max(failed, 1)
    return 1 if failed else 0


class _SentenceBar:
    """A progress bar over the sentences of one long text (more than 3), on stderr."""

    def __init__(self, show: bool) -> None:
        self.show, self.bar = show, None

    def update(self, done: int, total: int) -> None:
        if not self.show or total <= 3:
            return
        from tqdm import tqdm

        if self.bar is None:  # disable=None: drawn on a terminal only
            self.bar = tqdm(total=total, unit="sentence", disable=None, file=sys.stderr, leave=False)
        self.bar.update(done - self.bar.n)
        if done == total:
            self.bar.close()
            self.bar = None


def _output_format(output: Path) -> str | None:
    """The audio format of a one-file ``output`` (``wav``/``flac``), ``None`` for a directory
    of numbered files; refuses, before any work, an output that cannot be written."""
    from ..audio.inputs import AUDIO_SUFFIXES
    from ..audio.write import AUDIO_FORMATS
    from .checks import check_output_path
    from .main import CLIError

    suffix = output.suffix.lower()
    if suffix.lstrip(".") in AUDIO_FORMATS:
        check_output_path(output)
        return suffix.lstrip(".")
    if suffix in AUDIO_SUFFIXES:  # clearly meant as one file, in a format not written here
        writable = " or ".join(f".{name}" for name in AUDIO_FORMATS)
        raise CLIError(f"{output}: cannot write {suffix} audio; give a {writable} file, or a directory")
    check_output_path(output, directory=True)
    return None


def _read_lines(args, CLIError) -> list[tuple[int, str]]:
    if args.text is not None and args.text_file is not None:
        raise CLIError("give TEXT or --text-file, not both")
    if args.text is not None:
        return [(1, args.text)]
    if args.text_file in (None, "-"):
        if sys.stdin.isatty() and args.text_file is None:
            raise CLIError("no text: give TEXT, --text-file F, or pipe text on stdin")
        content = sys.stdin.read()
    else:
        try:
            content = Path(args.text_file).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CLIError(f"{args.text_file}: no such file") from None
        except UnicodeDecodeError:
            raise CLIError(f"{args.text_file}: not UTF-8 text") from None
    lines = [(i, line.strip()) for i, line in enumerate(content.splitlines(), 1) if line.strip()]
    if not lines:
        raise CLIError(f"{args.text_file or 'stdin'}: no text (empty input)")
    return lines


def _join(wavs, rate: int):
    import numpy as np

    from ..inference.synthesizer import SENTENCE_PAUSE_S

    pause = np.zeros(int(2 * SENTENCE_PAUSE_S * rate), dtype=np.float32)
    pieces = [piece for wav in wavs for piece in (pause, wav)][1:]
    return np.concatenate(pieces)


def _write(path: Path, wav, rate: int, audio_format: str) -> bool:
    """16-bit PCM, written atomically (a temporary sibling renamed into place); ``False``
    (reported in one line) if the file system refuses it, e.g. a disk full or a folder in the way."""
    from ..audio.write import write_audio

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_audio(path, wav, rate, audio_format)
    except OSError as exc:
        _error(f"{path}: not written ({exc.strerror or exc})")
        return False
    return True


def _report(where: str, result, args) -> None:
    record = {"input": where, "duration_s": round(result.duration_s, 3),
              "synth_s": round(result.synth_s, 3), "rtf": round(result.rtf, 4),
              "sentences": result.sentences}
    if result.energy is not None:  # the acoustic model's, and per scope, each ratio with its scope
        record["energy"] = result.energy.summary()
    _stderr(json.dumps(record))


def _error(message: str) -> None:
    _stderr(f"spikespeech synthesize: error: {message}")


def _stderr(line: str) -> None:
    """One line on stderr, below the progress bar when one is shown."""
    from tqdm import tqdm

    tqdm.write(line, file=sys.stderr)
    sys.stderr.flush()
