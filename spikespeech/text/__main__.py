"""``python -m spikespeech.text --language en IN_TEXT OUT_TEXT``: Kaldi ``text`` (``utt-id words...``)
to ``utt-id ph ph ...`` for ESPnet ``token_type: phn``, ``g2p: none``.

An utterance that cannot be converted is reported on stderr in one line and left out; the rest are
written atomically. Exit status: 0 all converted, 1 some left out, 2 bad arguments or unreadable input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..atomic import atomic_write_text
from ..data import kaldi
from .frontend import LANGUAGES, Frontend

_BATCH = 512  # utterances per espeak call: one call per line would pay its overhead thousands of times


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m spikespeech.text", description=__doc__.split("\n\n")[0])
    p.add_argument("--language", choices=LANGUAGES, required=True)
    p.add_argument("--no-sandhi", action="store_true", help="Mandarin: keep every third tone")
    p.add_argument("input", type=Path, metavar="IN_TEXT")
    p.add_argument("output", type=Path, metavar="OUT_TEXT")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        entries = kaldi.table_entries(args.input)  # repeated ids are reported below, one line each
    except (ValueError, OSError) as e:
        print(f"error: {e}" if isinstance(e, ValueError) else f"error: {args.input}: {e}", file=sys.stderr)
        return 2
    if not args.output.parent.is_dir():
        print(f"error: {args.output.parent}: output directory not found", file=sys.stderr)
        return 2

    failed = 0
    seen: set[str] = set()
    rows: list[tuple[int, str, str]] = []  # (line number, utt id, text)
    for number, utt, words in entries:
        problem = "duplicate utterance id" if utt in seen else "no text" if not words else None
        seen.add(utt)
        if problem:
            print(f"{args.input}:{number}: {utt}: {problem}", file=sys.stderr)
            failed += 1
        else:
            rows.append((number, utt, words))

    frontend = Frontend(args.language, sandhi=not args.no_sandhi)
    out, dropped, dropped_in = [], {}, 0
    for start in range(0, len(rows), _BATCH):
        batch = rows[start:start + _BATCH]
        for (number, utt, _), result in zip(batch, frontend.convert([t for _, _, t in batch]), strict=True):
            dropped.update(dict.fromkeys(result.dropped))
            dropped_in += bool(result.dropped)
            if result.error is not None:
                print(f"{args.input}:{number}: {utt}: {result.error}", file=sys.stderr)
                failed += 1
            else:
                out.append(f"{utt} {' '.join(result.tokens)}\n")
    if dropped:
        listed = ", ".join(repr(c) for c in list(dropped)[:30]) + (", ..." if len(dropped) > 30 else "")
        print(f"{args.input}: dropped characters the {args.language} frontend cannot speak from "
              f"{dropped_in} utterance(s): {listed}", file=sys.stderr)
    atomic_write_text(args.output, "".join(out))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
