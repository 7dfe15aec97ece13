"""Scoring stage of the ASR recipe: WER and CER of a decoded ``text`` against the reference.

    python -m spikespeech.recipe.score --ref data/test/text --hyp exp/asr/decode/test/text \\
        --out exp/asr/decode/test/score [--token_type char|bpe|word]

Both inputs are Kaldi ``text`` files: ``utt-id transcript`` a line, the id ending at the first
whitespace; a line with only an id is an empty transcript. What is compared, exactly:

* words (WER): the transcript split on whitespace; case, punctuation and every other character
  as is (``Hello,`` and ``hello`` are two different words);
* characters (CER): every character of the transcript except whitespace, case and punctuation
  as is (spaces removed, as CER is reported for AISHELL).

Nothing is normalised. Edit operations come from jiwer (unit-cost Levenshtein alignment;
sclite weights substitutions a little higher, so on rare ties its S/D/I split can differ).
Reference utterances with no hypothesis are scored as all deletions and listed in a warning
(and in ``scores.json``); a hypothesis id missing from the reference is an error.
``--token_type`` (the model's tokens) is recorded in ``scores.json``; it changes nothing.

Writes to ``--out``, each file atomically:

* ``scores.json``: ``wer`` and ``cer`` (fractions, not percent) and, for ``word`` and ``char``:
  ``n_sentences``, ``n_ref_tokens``, ``n_hyp_tokens``, ``correct``, ``substitutions``,
  ``deletions``, ``insertions``, ``errors``, ``error_rate``, ``sentence_errors``,
  ``sentence_error_rate``; plus ``missing_hyp`` (ids), ``compared`` (the rules above), the
  inputs and ``token_type``;
* ``result.wrd.txt`` / ``result.chr.txt``: sclite-style alignments, one block per utterance
  (``id:``, ``Scores: (#C #S #D #I)``, ``REF:``, ``HYP:``, ``Eval:``; correct tokens in lower
  case, errors in upper case, ``*`` filling the missing side of an insertion or deletion),
  then a summary block.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..atomic import atomic_write_text
from ..data.kaldi import read_table
from ..errors import SpikespeechError

TOKEN_TYPES = ("char", "bpe", "word")
COMPARED = {
    "word": "whitespace-separated words; case, punctuation and all other characters as is",
    "char": "all characters except whitespace; case and punctuation as is",
}
LEVELS = {"word": "words", "char": "characters"}


class ScoreError(SpikespeechError):
    """Inputs cannot be scored (message names the input and the problem)."""


@dataclass(frozen=True)
class ScoredUtterance:
    """One scored utterance: its alignment as (op, ref token, hyp token); op in C/S/D/I."""

    utt_id: str
    alignment: list[tuple[str, str | None, str | None]]

    def count(self, op: str) -> int:
        return sum(1 for o, _, _ in self.alignment if o == op)


def words(text: str) -> list[str]:
    """Word tokens: the transcript split on whitespace."""
    return text.split()


def chars(text: str) -> list[str]:
    """Character tokens: every character except whitespace."""
    return [c for c in text if not c.isspace()]


TOKENIZERS: dict[str, Callable[[str], list[str]]] = {"word": words, "char": chars}


def read_text(path: str | Path) -> dict[str, str]:
    """A Kaldi ``text`` file as {utt id: transcript}; the id ends at the first whitespace."""
    try:
        return read_table(path, ids="utterance id")
    except SpikespeechError as exc:
        raise ScoreError(str(exc)) from None


def _names(ids: list[str], limit: int = 5) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" (and {len(ids) - limit} more)" if len(ids) > limit else "")


def check_ids(ref: dict[str, str], hyp: dict[str, str]) -> list[str]:
    """Reference ids with no hypothesis (sorted); raises if hyp has ids the reference lacks."""
    if not ref:
        raise ScoreError("the reference has no utterances")
    unknown = sorted(set(hyp) - set(ref))
    if unknown:
        raise ScoreError(f"{len(unknown)} hypothesis utterance(s) not in the reference: {_names(unknown)}")
    return sorted(set(ref) - set(hyp))


def align(ref: dict[str, str], hyp: dict[str, str], level: str) -> list[ScoredUtterance]:
    """Align every reference utterance (sorted by id) at ``level`` ('word' or 'char') with jiwer."""
    import jiwer

    tokenize = TOKENIZERS[level]

    class _Tokens(jiwer.AbstractTransform):
        def process_string(self, s: str) -> list[str]:
            return tokenize(s)

    ids = sorted(ref)
    out = jiwer.process_words([ref[u] for u in ids], [hyp.get(u, "") for u in ids],
                              reference_transform=_Tokens(), hypothesis_transform=_Tokens())
    result = []
    for utt_id, r, h, chunks in zip(ids, out.references, out.hypotheses, out.alignments, strict=True):
        pairs: list[tuple[str, str | None, str | None]] = []
        for c in chunks:
            rs, hs = r[c.ref_start_idx:c.ref_end_idx], h[c.hyp_start_idx:c.hyp_end_idx]
            if c.type == "equal":
                pairs += [("C", a, b) for a, b in zip(rs, hs, strict=True)]
            elif c.type == "substitute":
                pairs += [("S", a, b) for a, b in zip(rs, hs, strict=True)]
            elif c.type == "delete":
                pairs += [("D", a, None) for a in rs]
            else:
                pairs += [("I", None, b) for b in hs]
        result.append(ScoredUtterance(utt_id, pairs))
    return result


def summarize(utterances: list[ScoredUtterance]) -> dict:
    """Totals of a level: counts, error rate (fraction) and sentence error rate."""
    c, s, d, i = (sum(u.count(op) for u in utterances) for op in "CSDI")
    n_ref = c + s + d
    if n_ref == 0:
        raise ScoreError("the reference transcripts are all empty: no tokens to score against")
    sentence_errors = sum(1 for u in utterances if u.count("C") != len(u.alignment))
    return {
        "n_sentences": len(utterances), "n_ref_tokens": n_ref, "n_hyp_tokens": c + s + i,
        "correct": c, "substitutions": s, "deletions": d, "insertions": i, "errors": s + d + i,
        "error_rate": (s + d + i) / n_ref,
        "sentence_errors": sentence_errors, "sentence_error_rate": sentence_errors / len(utterances),
    }


def score_texts(ref: dict[str, str], hyp: dict[str, str]) -> dict:
    """Scores of ``hyp`` against ``ref`` ({utt id: transcript}): the content of ``scores.json``."""
    return _score(ref, hyp)[0]


def _score(ref: dict[str, str], hyp: dict[str, str]) -> tuple[dict, dict[str, list[ScoredUtterance]]]:
    """The scores and the aligned utterances of each level."""
    missing = check_ids(ref, hyp)
    aligned = {level: align(ref, hyp, level) for level in LEVELS}
    levels = {level: summarize(utterances) for level, utterances in aligned.items()}
    scores = {"wer": levels["word"]["error_rate"], "cer": levels["char"]["error_rate"], **levels,
              "missing_hyp": missing, "compared": dict(COMPARED)}
    return scores, aligned


def _width(text: str) -> int:
    """Display width: East Asian wide/full-width characters count 2, combining marks 0."""
    return sum(0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
               for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def format_utterance(utt: ScoredUtterance) -> str:
    """One sclite ``pralign`` block (without trailing spaces)."""
    ref_cols, hyp_cols, eval_cols = [], [], []
    for op, r, h in utt.alignment:
        r_text = r.lower() if op == "C" else (r or "").upper()
        h_text = h.lower() if op == "C" else (h or "").upper()
        width = max(_width(r_text), _width(h_text))
        ref_cols.append(_pad(r_text or "*" * width, width))
        hyp_cols.append(_pad(h_text or "*" * width, width))
        eval_cols.append(_pad("" if op == "C" else op, width))
    counts = " ".join(str(utt.count(op)) for op in "CSDI")
    lines = [f"id: ({utt.utt_id})", f"Scores: (#C #S #D #I) {counts}",
             "REF:  " + " ".join(ref_cols), "HYP:  " + " ".join(hyp_cols), "Eval: " + " ".join(eval_cols)]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def format_summary(summary: dict, level: str) -> str:
    """The summary block of a report: counts and percentages of the reference tokens."""
    n, unit = summary["n_ref_tokens"], LEVELS[level]
    rate_name = "WER" if level == "word" else "CER"

    def row(label: str, count: int, total: int | None = None) -> str:
        pct = "" if total is None else f"{100 * count / total:7.1f}%"
        return f"{label:<18}{count:>9}{pct}"

    rows = [
        "=" * 79, f"SUMMARY ({unit}: {COMPARED[level]})", "=" * 79,
        row("Sentences", summary["n_sentences"]), row(f"Ref. {unit}", n),
        row(f"Hyp. {unit}", summary["n_hyp_tokens"]),
        row("Correct", summary["correct"], n), row("Substitutions", summary["substitutions"], n),
        row("Deletions", summary["deletions"], n), row("Insertions", summary["insertions"], n),
        row("Errors", summary["errors"], n) + f"  ({rate_name})",
        row("Sentence errors", summary["sentence_errors"], summary["n_sentences"]),
    ]
    return "\n".join(rows) + "\n"


def alignment_report(ref: dict[str, str], hyp: dict[str, str], level: str) -> str:
    """The full ``result.wrd.txt`` (level 'word') or ``result.chr.txt`` (level 'char') text."""
    check_ids(ref, hyp)
    return _report(align(ref, hyp, level), level)


def _report(utterances: list[ScoredUtterance], level: str) -> str:
    blocks = [format_utterance(u) for u in utterances]
    return "\n".join(blocks) + "\n" + format_summary(summarize(utterances), level)


def score_files(ref_path: str | Path, hyp_path: str | Path, out_dir: str | Path,
                token_type: str | None = None) -> dict:
    """Score two Kaldi text files; write ``scores.json`` and both reports to ``out_dir``."""
    ref_path, hyp_path, out_dir = Path(ref_path), Path(hyp_path), Path(out_dir)
    ref, hyp = read_text(ref_path), read_text(hyp_path)
    if not ref:
        raise ScoreError(f"{ref_path}: no utterances")
    try:
        scores, aligned = _score(ref, hyp)
    except ScoreError as exc:
        raise ScoreError(f"{hyp_path} vs {ref_path}: {exc}") from None
    scores = {**scores, "ref": str(ref_path), "hyp": str(hyp_path), "token_type": token_type}
    out_dir.mkdir(parents=True, exist_ok=True)
    for level, name in (("word", "result.wrd.txt"), ("char", "result.chr.txt")):
        atomic_write_text(out_dir / name, _report(aligned[level], level))
    atomic_write_text(out_dir / "scores.json", json.dumps(scores, indent=2, ensure_ascii=False) + "\n")
    return scores


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the exit status (2 on bad input)."""
    p = argparse.ArgumentParser(prog="python -m spikespeech.recipe.score",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--ref", type=Path, required=True, help="reference Kaldi text file")
    p.add_argument("--hyp", type=Path, required=True, help="hypothesis Kaldi text file")
    p.add_argument("--out", type=Path, required=True, help="directory for scores.json and the reports")
    p.add_argument("--token_type", choices=TOKEN_TYPES, default=None,
                   help="the model's token type (recorded only)")
    args = p.parse_args(argv)
    try:
        scores = score_files(args.ref, args.hyp, args.out, args.token_type)
    except ScoreError as exc:
        print(f"score: error: {exc}", file=sys.stderr)
        return 2
    missing = scores["missing_hyp"]
    if missing:
        print(f"score: warning: {args.hyp}: no hypothesis for {len(missing)} of "
              f"{scores['word']['n_sentences']} reference utterances, scored as all deletions: "
              f"{_names(missing, 10)}", file=sys.stderr)
    w, c = scores["word"], scores["char"]
    print(f"score: {w['n_sentences']} utterances: WER {100 * scores['wer']:.2f}% "
          f"(S {w['substitutions']} D {w['deletions']} I {w['insertions']} of {w['n_ref_tokens']} words), "
          f"CER {100 * scores['cer']:.2f}% ({c['errors']} of {c['n_ref_tokens']} characters) -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
