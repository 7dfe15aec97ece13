"""``spikespeech transcribe``: speech to text with a packed IML-Spikeformer model."""

from __future__ import annotations

import argparse
import json
import sys

from ..argtypes import non_negative_float, positive_float, positive_int, unit_float
from ..decoding_modes import (
    DEFAULT_CHUNK_SECONDS,
    DEFAULT_LOOKBACK_SECONDS,
    DEFAULT_MODE,
    DEFAULT_STREAM_CHUNK_SECONDS,
    MODES,
)

HELP = "transcribe audio files with a packed spiking ASR model"
DESCRIPTION = (
    "Transcribe AUDIO (files in any format soundfile/librosa read, directories searched "
    "recursively, Kaldi wav.scp files, or '-' for a list of paths on stdin). Audio of any "
    "sample rate is resampled and mixed to mono; long files are cut at pauses. Prints "
    "'utt-id<TAB>text' lines (or JSON lines with --format json, which also give the path). The "
    "id is the file's stem; files with the same stem in different folders get their path below "
    "the common folder, '/' written '-' (one/digit.wav, two/digit.wav: one-digit, two-digit). "
    "A file that fails is reported on stderr and the others are still transcribed; the exit "
    "code is 1 if any failed. Arguments and inputs are checked before the model loads."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("audio", nargs="+", metavar="AUDIO", help="audio file, directory, wav.scp or -")
    p.add_argument("--model", help="packed model (.zip or directory from 'spikespeech pack'); default: the "
                   "shipped Kathleen + FSDD IML-Spikeformer model")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    p.add_argument("--mode", choices=MODES, default=DEFAULT_MODE,
                   help="decoding mode, as in WeNet: ctc_greedy (best token per frame), ctc_prefix_beam "
                   "(CTC prefix beam search), attention_rescoring (its n-best rescored by the attention "
                   "decoder in one pass), attention (ESPnet's joint CTC/attention beam search, the "
                   f"slowest) (default {DEFAULT_MODE})")
    p.add_argument("--beam-size", type=positive_int, default=10,
                   help="beam size of the prefix or joint beam search (default 10)")
    p.add_argument("--ctc-weight", type=unit_float, default=0.3,
                   help="CTC weight in attention_rescoring and in attention mode's joint decoding, "
                   "0..1 (default 0.3)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--threads", type=positive_int, default=None,
                   help="CPU threads for the model (default: PyTorch's, one per core; 1 is "
                   "several times faster when other jobs load the cores: README 'Decoding speed')")
    p.add_argument("--energy", action="store_true",
                   help="with --format json: the theoretical energy of each utterance's decode vs the same "
                   "layers as an ANN, per scope (front-end, encoder blocks, decoder with its energy per "
                   "output token, CTC head; 'encoder' at the top = front-end + encoder blocks) and for "
                   "the whole model")
    p.add_argument("--chunk-seconds", type=positive_float, default=DEFAULT_CHUNK_SECONDS,
                   help="audio longer than this is cut at pauses (and speech still longer at its "
                   "quietest moments) into segments of at most this length, decoded one by one; "
                   f"--format json gives each segment's times (default {DEFAULT_CHUNK_SECONDS:g})")
    p.add_argument("--stream", action="store_true",
                   help="decode each file as a stream, as if its audio arrived in real time: chunk by "
                   "chunk with a bounded look-back, a pause ending each segment; --format json adds "
                   "the latency and the partial results (not with --mode attention)")
    p.add_argument("--stream-chunk", type=positive_float, default=DEFAULT_STREAM_CHUNK_SECONDS,
                   metavar="SECONDS", help="with --stream: audio per decoding step "
                   f"(default {DEFAULT_STREAM_CHUNK_SECONDS:g})")
    p.add_argument("--lookback", type=non_negative_float, default=DEFAULT_LOOKBACK_SECONDS,
                   metavar="SECONDS", help="with --stream: past audio each step re-encodes as context "
                   f"(default {DEFAULT_LOOKBACK_SECONDS:g})")
    p.add_argument("--no-progress", action="store_true", help="never show a progress bar")


def run(args: argparse.Namespace) -> int:
    from .checks import model_path
    from .main import CLIError

    if args.stream and args.mode == "attention":
        raise CLIError("--stream: mode 'attention' needs the whole utterance; use ctc_greedy, "
                       "ctc_prefix_beam or attention_rescoring")

    model = model_path(args.model, "asr")
    inputs, failed = _readable_inputs(args.audio)  # before the model loads, which takes seconds

    import torch
    from tqdm import tqdm

    from ..inference.pack import PackError
    from ..inference.transcriber import Transcriber

    if args.threads:
        torch.set_num_threads(args.threads)  # this process only decodes
    try:
        transcriber = Transcriber(model, device=args.device, beam_size=args.beam_size,
                                  ctc_weight=args.ctc_weight, chunk_seconds=args.chunk_seconds,
                                  mode=args.mode)
    except PackError as exc:
        raise CLIError(str(exc)) from None
    show = len(inputs) > 3 and not args.no_progress
    with transcriber:
        for item in tqdm(inputs, disable=None if show else True, unit="file", file=sys.stderr):
            try:
                if args.stream:
                    result = transcriber.transcribe_stream(item.path, args.stream_chunk, args.lookback,
                                                           energy=args.energy)
                else:
                    result = transcriber.transcribe(item.path, energy=args.energy)
            except ValueError as exc:  # AudioError included
                message = str(exc)
                if not message.startswith(str(item.path)):
                    message = f"{item.path}: {message}"
                _error(message)
                failed += 1
                continue
            # tqdm.write clears the bar (on stderr) first, so no line lands on the bar's line
            tqdm.write(_format(item, result, args.format, transcriber.mode), file=sys.stdout)
            sys.stdout.flush()
    return 1 if failed else 0


def _readable_inputs(args: list[str]):
    """``(inputs that can be read, how many were reported unusable)``; an error if none can."""
    from ..audio import AudioError, check_audio_file, expand_inputs
    from .main import CLIError

    inputs, problems = expand_inputs(args)
    readable = []
    for item in inputs:
        try:
            check_audio_file(item.path)
        except AudioError as exc:
            problems.append(str(exc))
            continue
        readable.append(item)
    if not readable and len(problems) == 1:
        raise CLIError(problems[0])  # one input, one line
    for message in problems:
        _error(message)
    if not readable:
        raise CLIError(f"none of the {len(problems)} inputs can be transcribed" if problems
                       else "no audio to transcribe (empty input list)")
    return readable, len(problems)


def _format(item, result, fmt: str, mode: str) -> str:
    if fmt == "text":
        return f"{item.utt_id}\t{result.text}"
    record = {
        "id": item.utt_id, "path": str(item.path), "text": result.text,
        "duration_s": round(result.duration_s, 3), "decode_s": round(result.decode_s, 3),
        "rtf": round(result.rtf, 4), "chunks": result.chunks, "mode": mode,
        "segments": [{"start": s.start_s, "end": s.end_s, "text": s.text} for s in result.segments],
    }
    if result.latency is not None:
        latency = result.latency
        record["stream"] = {
            "chunk_s": latency.chunk_s, "lookback_s": latency.lookback_s,
            "mean_latency_s": round(latency.mean_s, 4), "max_latency_s": round(latency.max_s, 4),
            "final_latency_s": round(latency.final_s, 4),
            "partials": [{"time": t, "text": text} for t, text in latency.partials],
        }
    if result.energy is not None:  # every ratio next to its scope; None where nothing ran
        from ..espnet.energy_scopes import asr_energy_summary

        record["energy"] = asr_energy_summary(result.energy)
    return json.dumps(record, ensure_ascii=False)


def _error(message: str) -> None:
    from tqdm import tqdm

    tqdm.write(f"spikespeech transcribe: error: {message}", file=sys.stderr)  # below any bar
    sys.stderr.flush()
