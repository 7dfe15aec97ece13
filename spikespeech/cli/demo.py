"""``spikespeech demo``: the gradio web demo (transcribe, synthesize, round trip, models)."""

from __future__ import annotations

import argparse
import ipaddress

from ..argtypes import port_number, positive_float, positive_int
from ..decoding_modes import DEFAULT_MODE, MODES

HELP = "start the web demo (ASR and TTS in the browser)"
DESCRIPTION = (
    "Serve the web demo on http://HOST:PORT: transcribe recorded or uploaded speech, "
    "synthesize text, round-trip text through both models, and read the model cards. Uses the "
    "shipped default models unless --asr-model/--tts-model are given; both are loaded before "
    "the server starts. Binds 127.0.0.1 (this machine only) unless --host says otherwise; "
    "no public share link unless --share. The Models tab loads other packs from this machine "
    "only with --allow-model-loading, which needs a loopback --host and no --share. Stop with Ctrl-C."
)
LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` serves this machine only: a loopback address or ``localhost``
    (any other name counts as reachable from outside, whatever it resolves to now)."""
    if host.strip().lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1; 0.0.0.0 serves the whole network)")
    p.add_argument("--port", type=port_number, default=7860, help="port (default 7860)")
    p.add_argument("--asr-model", help="packed ASR model (default: the shipped one)")
    p.add_argument("--tts-model", help="packed TTS model (default: the shipped one)")
    p.add_argument("--asr-mode", choices=MODES, default=DEFAULT_MODE,
                   help=f"ASR decoding mode, as in 'spikespeech transcribe --mode' (default {DEFAULT_MODE})")
    p.add_argument("--max-upload-mb", type=positive_float, default=10.0,
                   help="largest accepted upload in MB (MiB; default 10)")
    p.add_argument("--max-text-chars", type=positive_int, default=500,
                   help="longest text to synthesize (default 500 characters)")
    p.add_argument("--max-audio-seconds", type=positive_float, default=60.0,
                   help="longest audio to transcribe (default 60 s)")
    p.add_argument("--queue-size", type=positive_int, default=16,
                   help="requests that may wait while one is served (default 16); more are refused")
    p.add_argument("--share", action="store_true",
                   help="also open a public gradio share link (off by default; needs internet)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--allow-model-loading", action="store_true",
                   help="show the Models tab's path box: any client of the page may then load any "
                        "pack this process can read; refused unless --host is loopback and no --share")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .main import CLIError

    check_model_loading(args)
    for task in ("asr", "tts"):  # before the slow imports: a typo fails at once
        path = getattr(args, f"{task}_model")
        if path is not None and not Path(path).expanduser().exists():
            raise CLIError(f"--{task}-model {path}: model not found")

    # heavy imports only now: `spikespeech --help` stays instant
    from ..demo.callbacks import DemoState
    from ..demo.limits import Limits
    from ..demo.models import DemoModels, ModelLoadError

    limits = Limits(max_upload_mb=args.max_upload_mb, max_text_chars=args.max_text_chars,
                    max_audio_seconds=args.max_audio_seconds, queue_size=args.queue_size)
    try:
        models = DemoModels(args.asr_model, args.tts_model, device=args.device, asr_mode=args.asr_mode)
    except ModelLoadError as exc:
        given = exc.task is not None and getattr(args, f"{exc.task}_model") is not None
        raise CLIError(f"--{exc.task}-model {exc}" if given else str(exc)) from None
    from ..demo.app import LaunchError, serve

    try:
        state = DemoState(models, limits, allow_model_loading=args.allow_model_loading)
        return serve(state, host=args.host, port=args.port, share=args.share)
    except LaunchError as exc:
        raise CLIError(str(exc)) from None


def check_model_loading(args: argparse.Namespace) -> None:
    """``--allow-model-loading`` only where no one but this machine's users reaches the page.

    Gradio has no per-event access control: whoever reaches the server can call the loader with
    any path, so the loader is never served to a network (there is no override; to serve other
    models to a network, start the demo with --asr-model/--tts-model).
    """
    from .main import CLIError

    if not args.allow_model_loading:
        return
    if not is_loopback(args.host):
        raise CLIError(f"--allow-model-loading with --host {args.host}: any client on the network "
                       "could load files from this machine; use it with --host 127.0.0.1, or give "
                       "the models with --asr-model/--tts-model instead")
    if args.share:
        raise CLIError("--allow-model-loading with --share: anyone with the share link could load "
                       "files from this machine; use one or the other")
