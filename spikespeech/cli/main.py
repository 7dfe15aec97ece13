"""``spikespeech`` entry point: one sub-command per module in this package.

Sub-commands import their heavy dependencies (torch, ESPnet) only when they run, so
``spikespeech --help`` stays instant.
"""

from __future__ import annotations

import argparse
import signal
import sys
import warnings
from functools import partial

from .. import __version__
from ..errors import SpikespeechError
from ..shutdown import Terminated, sigterm_as_interrupt
from . import demo, energy, pack, synthesize, transcribe

COMMANDS = {"transcribe": transcribe, "synthesize": synthesize, "pack": pack, "energy": energy,
            "demo": demo}


class CLIError(SpikespeechError):
    """A user error found by the command line itself: printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spikespeech",
        description="Spiking neural network speech suite: IML-Spikeformer ASR, SpikeVoice TTS.",
    )
    parser.add_argument("--version", action="version", version=f"spikespeech {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in COMMANDS.items():
        p = sub.add_parser(name, help=module.HELP, description=module.DESCRIPTION)
        module.add_arguments(p)
        p.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    # warnings as one line for this command only: catch_warnings restores the filters and
    # showwarning on return, so an in-process caller (tests, notebooks) keeps its own
    with warnings.catch_warnings():
        # ESPnet's own deprecation notices are not actionable for our users
        warnings.filterwarnings("ignore", category=FutureWarning, module="espnet")
        warnings.showwarning = partial(_show_warning, args.command)
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    try:
        with sigterm_as_interrupt():  # so that cleanups run on SIGTERM as on Ctrl-C
            return int(args.run(args) or 0)
    # what the user gave (CLIError included): one line; any other exception is a bug and
    # keeps its traceback
    except SpikespeechError as exc:
        print(f"spikespeech {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the system refused (disk full, permission, missing file): one line
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"spikespeech {args.command}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:  # 128 + the signal's number, as a shell reports it
        return 128 + (signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT)


def _show_warning(command, message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as one line (``spikespeech CMD: warning: ...``), not Python's two-line form."""
    if issubclass(category, (DeprecationWarning, PendingDeprecationWarning, FutureWarning)):
        return  # library internals: nothing a user can act on
    print(f"spikespeech {command}: warning: {message}", file=sys.stderr)


if __name__ == "__main__":
    # `python -m spikespeech.cli.main` (the recipes' stage 10): this module runs as __main__,
    # and the sub-commands' `from .main import CLIError` imports it again as spikespeech.cli.main;
    # run that copy's main, so that its `except CLIError` catches what they raise
    from spikespeech.cli.main import main as _main

    sys.exit(_main())
