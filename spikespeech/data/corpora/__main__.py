"""``python -m spikespeech.data.corpora CORPUS --out DATA_ROOT [options]``: write Kaldi data dirs.

Prints one line per set written (``<set>: <dir> (<n> utterances, <m> speakers)``). Exit
status 2 with one ``error:`` line when the corpus is not on disk and may not (no
``--download``) or cannot (offline) be downloaded; 1 with one line for malformed data.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from . import CORPORA, corpus_module, prepare
from .download import MissingDataError


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: one sub-command per corpus, with the common and its own options."""
    parser = argparse.ArgumentParser(prog="python -m spikespeech.data.corpora",
                                     description="Prepare a speech corpus as Kaldi data dirs OUT/<set>/.")
    sub = parser.add_subparsers(dest="corpus", required=True, metavar="CORPUS",
                                help=f"one of: {', '.join(CORPORA)}")
    for name in CORPORA:
        module = corpus_module(name)
        summary = (module.__doc__ or name).strip().splitlines()[0]
        p = sub.add_parser(name, help=summary, description=summary)
        p.add_argument("--out", required=True, type=Path, metavar="DATA_ROOT",
                       help="write DATA_ROOT/<set>/{wav.scp,text,utt2spk,spk2utt}")
        p.add_argument("--data_dir", type=Path, default=Path("downloads"),
                       help="where the corpus (or its archives) is, and where downloads go "
                            "(default: downloads)")
        p.add_argument("--work_dir", type=Path, default=None,
                       help="where archives are extracted (default: DATA_DIR); set it when DATA_DIR "
                            "is read-only")
        p.add_argument("--download", action="store_true",
                       help="download missing archives (never done for data already on disk)")
        p.add_argument("--sets", nargs="+", default=None, metavar="SET",
                       help="write only these sets (default: the corpus' standard sets)")
        module.add_arguments(p)
    return parser


def _count_lines(path: Path) -> int:
    with open(path, encoding="utf-8") as f:
        return sum(1 for line in f if line.strip())


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    options = vars(build_parser().parse_args(argv))
    corpus, out, data_dir = options.pop("corpus"), options.pop("out"), options.pop("data_dir")
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        written = prepare(corpus, data_dir, out, **options)
    except MissingDataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for name, path in written.items():
        print(f"{name}: {path} ({_count_lines(path / 'text')} utterances, "
              f"{_count_lines(path / 'spk2utt')} speakers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
