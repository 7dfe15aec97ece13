"""Token list stage of the ASR recipe: ``tokens.txt`` (and ``bpe.model``) as ESPnet's asr.sh builds them.

    python -m spikespeech.recipe.tokens --token_type char|bpe|word --text data/train/text --out DIR \\
        [--nbpe 5000] [--bpemode unigram|bpe] [--non_linguistic_symbols FILE] \\
        [--input_sentence_size 100000000]

Reproduces stage 5 of ESPnet's ``egs2/TEMPLATE/asr1/asr.sh`` without importing ESPnet:

* ``char`` / ``word``: the vocabulary ``espnet2.bin.tokenize_text --field 2- --write_vocabulary
  true --add_symbol '<blank>:0' --add_symbol '<unk>:1' --add_symbol '<sos/eos>:-1'`` writes.
  The transcript is the line after its utterance id, split on whitespace and re-joined with
  single spaces (what ``--field 2-`` does); ``char`` splits it into characters with ``<space>``
  for a space and each non-linguistic symbol kept whole (ESPnet's ``CharTokenizer``), ``word``
  splits it on whitespace (``WordTokenizer``). Tokens are ordered by descending count; equal
  counts keep the order of first occurrence in the file (ESPnet's stable sort, not a lexical
  order). Then ``<blank>`` first, ``<unk>`` second and ``<sos/eos>`` last.
* ``bpe``: a sentencepiece model trained on the transcripts (text only, without utterance ids)
  with asr.sh's ``spm_train`` settings (``--vocab_size nbpe --model_type bpemode
  --character_coverage 1.0 --input_sentence_size 100000000``, the non-linguistic symbols as
  ``--user_defined_symbols``), written to ``DIR/bpe.model`` and ``DIR/bpe.vocab``; the token list
  is ``<blank>``, ``<unk>``, the model's pieces in id order without ``<unk>`` and the control
  pieces ``<s>``/``</s>``, then ``<sos/eos>`` (asr.sh's ``awk 'NR > 3'`` on ``bpe.vocab``).
  Training is deterministic: fixed thread count (spm_train's default, 16, so the pieces and
  scores equal ``spm_train``'s), a fixed sampling seed, and no file paths recorded in the model.

Differences from ESPnet, only where ESPnet is ill-defined: non-linguistic symbols are matched
longest first (ESPnet tries them in ``set`` order), blank lines in the symbols file are ignored
(ESPnet would loop forever on the empty symbol), a missing symbols file is an error (ESPnet
warns), and a transcript token equal to ``<unk>`` is not listed twice (ESPnet's list would then
fail to load); ``<blank>`` or ``<sos/eos>`` in a transcript is an error.

Outputs are written atomically: ``tokens.txt`` last, so its presence means the stage finished.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from ..atomic import atomic_write_bytes, atomic_write_text
from ..errors import SpikespeechError

BLANK, OOV, SOS_EOS = "<blank>", "<unk>", "<sos/eos>"
SPACE = "<space>"
TOKEN_TYPES = ("char", "bpe", "word")
BPE_MODES = ("unigram", "bpe")
SPM_THREADS = 16  # spm_train's default: the model depends on it, so it is fixed
SPM_SEED = 0  # used only when --input_sentence_size samples the corpus


class TokenError(SpikespeechError):
    """Token list cannot be built (message names the input and the problem)."""


def read_transcripts(text: str | Path) -> list[str]:
    """Transcripts of a Kaldi ``text`` file as ``tokenize_text --field 2-`` sees them.

    Each line is split on whitespace; the fields after the utterance id are re-joined with
    single spaces. Lines with no transcript are skipped (asr.sh drops them too).
    """
    path = Path(text)
    try:
        with path.open(encoding="utf-8") as f:  # universal newlines, as ESPnet reads it
            lines = list(f)
    except FileNotFoundError:
        raise TokenError(f"{path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise TokenError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    transcripts = [" ".join(line.split()[1:]) for line in lines]
    return [t for t in transcripts if t]


def read_nlsyms(path: str | Path | None) -> list[str]:
    """Non-linguistic symbols, one a line (blank lines ignored); ``None``/"none" means no file."""
    if path is None or str(path).strip().lower() in ("", "none", "null", "nil"):
        return []
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise TokenError(f"{path}: non-linguistic symbols file not found") from None
    return list(dict.fromkeys(line.rstrip() for line in lines if line.strip()))


def char_tokens(line: str, nlsyms: Iterable[str] = ()) -> list[str]:
    """ESPnet ``CharTokenizer.text2tokens``: characters, ``<space>`` for " ", nlsyms kept whole."""
    symbols = sorted(set(nlsyms), key=lambda s: (-len(s), s))
    tokens: list[str] = []
    i = 0
    while i < len(line):
        symbol = next((s for s in symbols if line.startswith(s, i)), None)
        if symbol is not None:
            tokens.append(symbol)
            i += len(symbol)
        else:
            tokens.append(SPACE if line[i] == " " else line[i])
            i += 1
    return tokens


def count_tokens(transcripts: Iterable[str], token_type: str, nlsyms: Iterable[str] = ()) -> Counter:
    """Token counts (insertion order = first occurrence) for ``char`` or ``word`` tokens."""
    if token_type not in ("char", "word"):
        raise TokenError(f"token type {token_type!r}: counting is for 'char' or 'word'")
    nlsyms = list(nlsyms)
    counter: Counter = Counter()
    for line in transcripts:
        counter.update(char_tokens(line, nlsyms) if token_type == "char" else line.split())
    return counter


def vocabulary(counter: Counter, source: str = "transcripts") -> list[str]:
    """``<blank>``, ``<unk>``, tokens by descending count (ties: first occurrence), ``<sos/eos>``."""
    reserved = [t for t in (BLANK, SOS_EOS) if t in counter]
    if reserved:
        raise TokenError(f"{source}: contain the reserved token {reserved[0]!r}")
    ordered = [t for t, _ in sorted(counter.items(), key=lambda item: -item[1]) if t != OOV]
    return [BLANK, OOV, *ordered, SOS_EOS]


def train_bpe(transcripts: list[str], out_dir: Path, nbpe: int, bpemode: str = "unigram",
              user_symbols: Iterable[str] = (), input_sentence_size: int = 100_000_000,
              source: str = "transcripts") -> Path:
    """Train ``out_dir/bpe.model`` (+ ``bpe.vocab``) with asr.sh's settings; returns the model path.

    Trained from memory, so the model records no file paths and is the same bytes on every run.
    """
    import sentencepiece as spm

    if bpemode not in BPE_MODES:
        raise TokenError(f"--bpemode {bpemode!r}: must be one of {', '.join(BPE_MODES)}")
    if not transcripts:
        raise TokenError(f"{source}: no transcripts to train a BPE model on")
    model = io.BytesIO()
    spm.set_random_generator_seed(SPM_SEED)
    try:
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(transcripts), model_writer=model, vocab_size=nbpe, model_type=bpemode,
            character_coverage=1.0, input_sentence_size=input_sentence_size,
            user_defined_symbols=list(user_symbols), num_threads=SPM_THREADS, minloglevel=2)
    except RuntimeError as exc:
        raise TokenError(_explain_spm_error(str(exc), nbpe, source)) from None
    sp = spm.SentencePieceProcessor(model_proto=model.getvalue())
    # bpe.vocab as spm_train writes it: piece, tab, score (C++ stream format = %g)
    vocab = "".join(f"{sp.id_to_piece(i)}\t{sp.get_score(i):g}\n" for i in range(sp.get_piece_size()))
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out_dir / "bpe.vocab", vocab)
    atomic_write_bytes(out_dir / "bpe.model", model.getvalue())
    return out_dir / "bpe.model"


def _explain_spm_error(message: str, nbpe: int, source: str) -> str:
    """sentencepiece's vocabulary-size errors, as one line that says which --nbpe to use."""
    too_high = re.search(r"Please set it to a value <= (\d+)", message)
    if too_high:
        return (f"{source}: --nbpe {nbpe} is too large for so little text (sentencepiece can make at "
                f"most {too_high.group(1)} pieces from it); use a smaller --nbpe, e.g. {too_high.group(1)}")
    too_low = re.search(r"smaller than required_chars\. \d+ vs (\d+)", message)
    if too_low:
        return (f"{source}: --nbpe {nbpe} is too small: the text needs {too_low.group(1)} pieces for its "
                f"characters and the special symbols; use --nbpe {too_low.group(1)} or more")
    return f"{source}: sentencepiece training failed: {message.strip().splitlines()[-1]}"


def bpe_token_list(model: str | Path) -> list[str]:
    """ESPnet's token list for a sentencepiece model: its pieces without ``<unk>`` and control pieces."""
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(model))
    pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())
              if not (sp.is_unknown(i) or sp.is_control(i))]
    return [BLANK, OOV, *pieces, SOS_EOS]


def build_token_list(text: str | Path, out_dir: str | Path, token_type: str, nbpe: int = 5000,
                     bpemode: str = "unigram", non_linguistic_symbols: str | Path | None = None,
                     input_sentence_size: int = 100_000_000) -> list[str]:
    """Write ``out_dir/tokens.txt`` (and for bpe ``bpe.model``/``bpe.vocab``); return the token list.

    ``nbpe``, ``bpemode`` and ``input_sentence_size`` are used for ``bpe`` only.
    """
    if token_type not in TOKEN_TYPES:
        raise TokenError(f"--token_type {token_type!r}: must be one of {', '.join(TOKEN_TYPES)}")
    out_dir = Path(out_dir)
    transcripts = read_transcripts(text)
    if not transcripts:
        raise TokenError(f"{text}: no transcripts (expected 'utt-id transcript' lines)")
    nlsyms = read_nlsyms(non_linguistic_symbols)
    if token_type == "bpe":
        if nbpe < 1:
            raise TokenError(f"--nbpe {nbpe}: must be at least 1")
        if input_sentence_size < 0:
            raise TokenError(f"--input_sentence_size {input_sentence_size}: must be 0 (all) or more")
        model = train_bpe(transcripts, out_dir, nbpe, bpemode, nlsyms, input_sentence_size, source=str(text))
        tokens = bpe_token_list(model)
    else:
        tokens = vocabulary(count_tokens(transcripts, token_type, nlsyms), source=str(text))
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out_dir / "tokens.txt", "".join(t + "\n" for t in tokens))
    return tokens


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the exit status (2 on bad input)."""
    p = argparse.ArgumentParser(prog="python -m spikespeech.recipe.tokens",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--token_type", required=True, choices=TOKEN_TYPES)
    p.add_argument("--text", type=Path, required=True, help="Kaldi text file (utt-id transcript)")
    p.add_argument("--out", type=Path, required=True, help="directory for tokens.txt (and bpe.model)")
    p.add_argument("--nbpe", type=int, default=5000, help="BPE vocabulary size (bpe only)")
    p.add_argument("--bpemode", default="unigram", choices=BPE_MODES, help="sentencepiece model type")
    p.add_argument("--non_linguistic_symbols", default=None,
                   help="file with one symbol a line, kept as single tokens ('none': no file)")
    p.add_argument("--input_sentence_size", type=int, default=100_000_000,
                   help="sentencepiece samples at most this many transcripts (bpe only)")
    args = p.parse_args(argv)
    try:
        tokens = build_token_list(args.text, args.out, args.token_type, args.nbpe, args.bpemode,
                                  args.non_linguistic_symbols, args.input_sentence_size)
    except TokenError as exc:
        print(f"tokens: error: {exc}", file=sys.stderr)
        return 2
    extra = f" and {args.out / 'bpe.model'}" if args.token_type == "bpe" else ""
    print(f"tokens: {len(tokens)} {args.token_type} tokens in {args.out / 'tokens.txt'}{extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
