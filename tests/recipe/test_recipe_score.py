"""Recipe stages: token lists (as ESPnet builds them), WER/CER scoring with sclite-style reports,
and the RESULTS.md gathering of experiments."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jiwer
import pytest
import sentencepiece as spm
import yaml
from _helpers import shared_data
from hypothesis import given, settings
from hypothesis import strategies as st

from spikespeech.recipe import model_card, results, score, tokens
from spikespeech.recipe.score import ScoreError, score_files, score_texts
from spikespeech.recipe.tokens import TokenError, build_token_list

REPO = Path(__file__).resolve().parents[2]

# lines ESPnet treats in special ways: runs of spaces, a tab, leading blanks, a non-linguistic
# symbol, non-ASCII text, a line with only an utterance id
TRICKY = [
    "x001 two  spaces and\ta tab",
    "x002    leading blanks <noise> here",
    "x003 <noise>",
    "x004 而对楼市成交抑制作用最大的限购",
    "x005 café naïve ÉCOLE",
    "x006",
]


def _kathleen_texts(limit: int | None = None) -> list[str]:
    rows = (shared_data("kathleen") / "metadata.csv").read_text(encoding="utf-8").splitlines()
    return [row.split("|")[1] for row in rows[:limit]]


def _kaldi_text(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def espnet_tokenize():
    """ESPnet's ``tokenize_text.tokenize`` (imported offline through spikespeech.espnet)."""
    # isort: off
    from spikespeech.espnet import register

    register()  # first: imports ESPnet offline
    from espnet2.bin.tokenize_text import tokenize
    from espnet2.text.char_tokenizer import CharTokenizer

    # isort: on

    return tokenize, CharTokenizer


@pytest.fixture()
def corpus(tmp_path) -> Path:
    """Kathleen transcripts as a Kaldi text file, plus the tricky lines."""
    lines = [f"kat{i:04d} {t}" for i, t in enumerate(_kathleen_texts())] + TRICKY
    return _kaldi_text(tmp_path / "text", lines)


# --------------------------------------------------------------------------- token lists


@pytest.mark.parametrize("token_type", ["char", "word"])
def test_token_list_equals_espnet_tokenize_text(tmp_path, corpus, espnet_tokenize, token_type):
    tokenize, _ = espnet_tokenize
    nlsyms = _kaldi_text(tmp_path / "nlsyms.txt", ["<noise>"])
    ours = build_token_list(corpus, tmp_path / "ours", token_type, non_linguistic_symbols=nlsyms)
    # exactly what asr.sh stage 5 runs for char/word token lists
    theirs = tmp_path / "espnet_tokens.txt"
    tokenize(input=str(corpus), output=str(theirs), field="2-", delimiter=None, token_type=token_type,
             space_symbol="<space>", non_linguistic_symbols=str(nlsyms), bpemodel=None, log_level="WARNING",
             write_vocabulary=True, vocabulary_size=0, remove_non_linguistic_symbols=False, cutoff=0,
             add_symbol=["<blank>:0", "<unk>:1", "<sos/eos>:-1"], cleaner=None, g2p=None,
             add_nonsplit_symbol=[])
    written = (tmp_path / "ours" / "tokens.txt").read_text(encoding="utf-8")
    assert written == theirs.read_text(encoding="utf-8")
    assert written.splitlines() == ours
    assert ours[:2] == ["<blank>", "<unk>"] and ours[-1] == "<sos/eos>"
    assert ("<noise>" in ours) and ("<space>" in ours) == (token_type == "char")


def test_char_tokens_are_what_espnet_char_tokenizer_produces(tmp_path, corpus, espnet_tokenize):
    _, CharTokenizer = espnet_tokenize
    token_list = build_token_list(corpus, tmp_path, "char", non_linguistic_symbols=_kaldi_text(
        tmp_path / "nlsyms.txt", ["<noise>"]))
    espnet = CharTokenizer(non_linguistic_symbols=["<noise>"])
    produced = set()
    for line in tokens.read_transcripts(corpus):
        produced.update(espnet.text2tokens(line))
        assert tokens.char_tokens(line, ["<noise>"]) == espnet.text2tokens(line)
    assert set(token_list[2:-1]) == produced
    assert len(token_list) == len(set(token_list))


def test_char_order_is_count_then_first_occurrence(tmp_path):
    text = _kaldi_text(tmp_path / "text", ["u1 ab ba", "u2 c", "u3"])
    # a and b twice (a seen first), then <space> and c once each (<space> seen first)
    assert build_token_list(text, tmp_path / "out", "char") == [
        "<blank>", "<unk>", "a", "b", "<space>", "c", "<sos/eos>"]
    assert (tmp_path / "out" / "tokens.txt").read_text() == "<blank>\n<unk>\na\nb\n<space>\nc\n<sos/eos>\n"


def test_word_list_keeps_unk_once_and_rejects_reserved_tokens(tmp_path):
    text = _kaldi_text(tmp_path / "text", ["u1 the <unk> the cat", "u2 cat <unk> <unk>"])
    assert build_token_list(text, tmp_path / "a", "word") == ["<blank>", "<unk>", "the", "cat", "<sos/eos>"]
    bad = _kaldi_text(tmp_path / "bad", ["u1 a <sos/eos> b"])
    with pytest.raises(TokenError, match=r"bad: contain the reserved token '<sos/eos>'"):
        build_token_list(bad, tmp_path / "b", "word")


@pytest.mark.parametrize("bpemode", ["unigram", "bpe"])
def test_bpe_list_is_the_models_vocabulary_and_round_trips(tmp_path, bpemode):
    texts = _kathleen_texts()
    text = _kaldi_text(tmp_path / "text", [f"kat{i:04d} {t}" for i, t in enumerate(texts)])
    token_list = build_token_list(text, tmp_path / "bpe", "bpe", nbpe=200, bpemode=bpemode)
    model = tmp_path / "bpe" / "bpe.model"
    sp = spm.SentencePieceProcessor(model_file=str(model))
    assert sp.get_piece_size() == 200
    # asr.sh: <blank>, <unk>, bpe.vocab without its first 3 lines (<unk> <s> </s>), <sos/eos>
    vocab = (tmp_path / "bpe" / "bpe.vocab").read_text(encoding="utf-8").splitlines()
    assert [v.split("\t")[0] for v in vocab[:3]] == ["<unk>", "<s>", "</s>"]
    assert token_list == ["<blank>", "<unk>", *(v.split("\t")[0] for v in vocab[3:]), "<sos/eos>"]
    assert (tmp_path / "bpe" / "tokens.txt").read_text(encoding="utf-8").splitlines() == token_list
    assert len(token_list) == 200 - 3 + 3
    for piece in token_list[2:-1]:  # each listed token is a known piece: piece -> id -> piece
        assert sp.id_to_piece(sp.piece_to_id(piece)) == piece and not sp.is_unknown(sp.piece_to_id(piece))
    known = set(token_list)
    for line in texts:  # every transcript tokenizes into listed tokens and decodes back
        pieces = sp.encode(line, out_type=str)
        assert set(pieces) <= known
        assert sp.decode_pieces(pieces) == " ".join(line.split())
    # deterministic: a second run gives the same model, byte for byte
    build_token_list(text, tmp_path / "again", "bpe", nbpe=200, bpemode=bpemode)
    assert (tmp_path / "again" / "bpe.model").read_bytes() == model.read_bytes()


def test_bpe_trains_on_transcripts_only_and_keeps_nlsyms_whole(tmp_path):
    text = _kaldi_text(tmp_path / "text",
                       [f"zzid{i:04d} {t} <noise>" for i, t in enumerate(_kathleen_texts(300))])
    nlsyms = _kaldi_text(tmp_path / "nlsyms", ["<noise>"])
    token_list = build_token_list(text, tmp_path / "out", "bpe", nbpe=150, non_linguistic_symbols=nlsyms)
    assert "<noise>" in token_list
    assert not any("zzid" in t for t in token_list)  # the utterance ids were not trained on
    sp = spm.SentencePieceProcessor(model_file=str(tmp_path / "out" / "bpe.model"))
    assert "<noise>" in sp.encode("hello <noise> world", out_type=str)


def test_too_large_nbpe_is_a_clear_error(tmp_path, capsys):
    text = _kaldi_text(tmp_path / "text", ["u1 hello world", "u2 foo bar baz", "u3 hello again"])
    with pytest.raises(TokenError, match=r"--nbpe 5000 is too large .* use a smaller --nbpe, e\.g\. \d+"):
        build_token_list(text, tmp_path / "out", "bpe", nbpe=5000)
    assert not (tmp_path / "out" / "tokens.txt").exists() and not (tmp_path / "out" / "bpe.model").exists()
    assert tokens.main(["--token_type", "bpe", "--text", str(text), "--out", str(tmp_path / "o2"),
                        "--nbpe", "5000"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"tokens: error: {text}: --nbpe 5000 is too large") and err.count("\n") == 1
    with pytest.raises(TokenError, match=r"--nbpe 10 is too small: .* use --nbpe \d+ or more"):
        build_token_list(text, tmp_path / "out", "bpe", nbpe=10)


def test_tokens_cli_input_errors(tmp_path, capsys):
    missing = tmp_path / "nope"
    assert tokens.main(["--token_type", "char", "--text", str(missing), "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"tokens: error: {tmp_path / 'nope'}: file not found\n"
    text = _kaldi_text(tmp_path / "text", ["u1 a b"])
    assert tokens.main(["--token_type", "char", "--text", str(text), "--out", str(tmp_path / "o"),
                        "--non_linguistic_symbols", str(tmp_path / "missing")]) == 2
    assert "non-linguistic symbols file not found" in capsys.readouterr().err
    # asr.sh passes "none" when there is no symbols file
    assert tokens.main(["--token_type", "char", "--text", str(text), "--out", str(tmp_path / "o"),
                        "--non_linguistic_symbols", "none"]) == 0
    assert (tmp_path / "o" / "tokens.txt").read_text().split() == ["<blank>", "<unk>", "a", "<space>", "b",
                                                                  "<sos/eos>"]


# --------------------------------------------------------------------------- scoring


def test_hand_computed_wer_and_cer():
    ref = {"u1": "a b c d", "u2": "a b c", "u3": "a b", "u4": "hello world"}
    hyp = {"u1": "a x c d", "u2": "a c", "u3": "a b c", "u4": "hello word"}
    s = score_texts(ref, hyp)
    # words: u1 1 S, u2 1 D, u3 1 I, u4 1 S (world -> word) of 4+3+2+2 = 11 words
    assert {k: s["word"][k] for k in ("n_ref_tokens", "n_hyp_tokens", "correct", "substitutions",
                                      "deletions", "insertions", "errors", "sentence_errors")} == {
        "n_ref_tokens": 11, "n_hyp_tokens": 11, "correct": 8, "substitutions": 2, "deletions": 1,
        "insertions": 1, "errors": 4, "sentence_errors": 4}
    assert s["wer"] == pytest.approx(4 / 11) and s["word"]["sentence_error_rate"] == 1.0
    # characters (no spaces): u1 1 S, u2 1 D, u3 1 I, u4 "helloworld" -> "helloword": 1 D; 4+3+2+10 = 19
    assert {k: s["char"][k] for k in ("n_ref_tokens", "correct", "substitutions", "deletions",
                                      "insertions")} == {
        "n_ref_tokens": 19, "correct": 16, "substitutions": 1, "deletions": 2, "insertions": 1}
    assert s["cer"] == pytest.approx(4 / 19)
    assert s["missing_hyp"] == [] and s["word"]["n_sentences"] == 4


def test_case_punctuation_and_spaces_are_compared_as_is():
    s = score_texts({"u": "Hello, world"}, {"u": "hello world"})
    assert (s["word"]["substitutions"], s["word"]["correct"]) == (1, 1)  # "Hello," vs "hello"
    assert (s["char"]["substitutions"], s["char"]["deletions"], s["char"]["n_ref_tokens"]) == (1, 1, 11)
    # CER ignores where the spaces are; WER does not
    s = score_texts({"u": "而对 楼市"}, {"u": "而对楼市"})
    assert s["cer"] == 0.0 and s["wer"] == 1.0 and s["char"]["sentence_errors"] == 0


def test_sclite_style_report_exact_text():
    ref = {"utt1": "the cat sat on the mat"}
    hyp = {"utt1": "well the bat sat on the"}
    assert score.alignment_report(ref, hyp, "word") == (
        "id: (utt1)\n"
        "Scores: (#C #S #D #I) 4 1 1 1\n"
        "REF:  **** the CAT sat on the MAT\n"
        "HYP:  WELL the BAT sat on the ***\n"
        "Eval: I        S              D\n"
        "\n"
        + "=" * 79 + "\n"
        "SUMMARY (words: whitespace-separated words; case, punctuation and all other characters as is)\n"
        + "=" * 79 + "\n"
        "Sentences                 1\n"
        "Ref. words                6\n"
        "Hyp. words                6\n"
        "Correct                   4   66.7%\n"
        "Substitutions             1   16.7%\n"
        "Deletions                 1   16.7%\n"
        "Insertions                1   16.7%\n"
        "Errors                    3   50.0%  (WER)\n"
        "Sentence errors           1  100.0%\n"
    )
    # upper-case references (LibriSpeech): correct words are shown in lower case, as sclite does
    block = score.alignment_report({"u": "HE HOPED THERE"}, {"u": "HE HOPE THERE"}, "word").split("\n\n")[0]
    assert block.splitlines()[2:] == ["REF:  he HOPED there", "HYP:  he HOPE  there", "Eval:    S"]
    # wide (CJK) characters take two columns; the filler matches the column's width
    block = score.alignment_report({"c": "而对楼市"}, {"c": "而楼市了"}, "char").split("\n\n")[0]
    assert block.splitlines() == ["id: (c)", "Scores: (#C #S #D #I) 3 0 1 1",
                                  "REF:  而 对 楼 市 **", "HYP:  而 ** 楼 市 了", "Eval:    D        I"]


def test_missing_hypothesis_is_all_deletions_and_warned(tmp_path):
    ref = _kaldi_text(tmp_path / "ref", ["u1 a b c", "u2 d e", "u3 f"])
    hyp = _kaldi_text(tmp_path / "hyp", ["u1 a b c", "u3"])  # u3: empty hypothesis, u2: missing
    out = tmp_path / "score"
    proc = subprocess.run([sys.executable, "-m", "spikespeech.recipe.score", "--ref", str(ref), "--hyp",
                           str(hyp), "--out", str(out), "--token_type", "bpe"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == (f"score: warning: {hyp}: no hypothesis for 1 of 3 reference utterances, "
                           "scored as all deletions: u2\n")
    s = json.loads((out / "scores.json").read_text())
    assert s["missing_hyp"] == ["u2"] and s["token_type"] == "bpe" and s["ref"] == str(ref)
    assert (s["word"]["correct"], s["word"]["deletions"], s["word"]["n_ref_tokens"]) == (3, 3, 6)
    assert s["wer"] == 0.5 and s["word"]["sentence_errors"] == 2
    report = (out / "result.wrd.txt").read_text()
    assert "id: (u2)\nScores: (#C #S #D #I) 0 0 2 0\nREF:  D E\nHYP:  * *\nEval: D D\n" in report
    chr_report = (out / "result.chr.txt").read_text()
    assert "id: (u1)\nScores: (#C #S #D #I) 3 0 0 0\nREF:  a b c\nHYP:  a b c\nEval:\n" in chr_report
    assert "Errors                    3   50.0%  (CER)" in chr_report


def test_unknown_hypothesis_id_is_an_error(tmp_path, capsys):
    with pytest.raises(ScoreError, match=r"2 hypothesis utterance\(s\) not in the reference: x9, y1"):
        score_texts({"u1": "a"}, {"u1": "a", "y1": "b", "x9": "c"})
    ref = _kaldi_text(tmp_path / "ref", ["u1 a"])
    hyp = _kaldi_text(tmp_path / "hyp", ["u1 a", "zz b"])
    assert score.main(["--ref", str(ref), "--hyp", str(hyp), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == (f"score: error: {hyp} vs {ref}: 1 hypothesis utterance(s) not in the "
                                       "reference: zz\n")
    assert not (tmp_path / "out").exists()


def test_score_input_errors(tmp_path):
    dup = _kaldi_text(tmp_path / "dup", ["u1 a", "u1 b"])
    with pytest.raises(ScoreError, match=r"dup:2: duplicate utterance id 'u1'"):
        score_files(dup, dup, tmp_path / "o")
    empty = _kaldi_text(tmp_path / "empty", ["u1", "u2  "])
    with pytest.raises(ScoreError, match=r"all empty"):
        score_files(empty, empty, tmp_path / "o")
    with pytest.raises(ScoreError, match=r"nope: file not found"):
        score_files(tmp_path / "nope", dup, tmp_path / "o")


_WORDS = st.lists(st.sampled_from(["a", "b", "c", "dd", "eé", "楼"]), max_size=8)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_WORDS.filter(bool), _WORDS), min_size=1, max_size=6))
def test_wer_properties(pairs):
    ref = {f"u{i}": " ".join(r) for i, (r, _) in enumerate(pairs)}
    hyp = {f"u{i}": " ".join(h) for i, (_, h) in enumerate(pairs)}
    s = score_texts(ref, hyp)
    for level, n_ref, n_hyp in (("word", sum(len(r) for r, _ in pairs), sum(len(h) for _, h in pairs)),
                                ("char", sum(len("".join(r)) for r, _ in pairs),
                                 sum(len("".join(h)) for _, h in pairs))):
        x = s[level]
        assert x["correct"] + x["substitutions"] + x["deletions"] == x["n_ref_tokens"] == n_ref
        assert x["correct"] + x["substitutions"] + x["insertions"] == x["n_hyp_tokens"] == n_hyp
        assert x["errors"] >= abs(n_ref - n_hyp)
    ids = sorted(ref)
    assert s["wer"] == pytest.approx(jiwer.wer([ref[u] for u in ids], [hyp[u] for u in ids]))
    assert s["cer"] == pytest.approx(jiwer.cer([ref[u].replace(" ", "") for u in ids],
                                               [hyp[u].replace(" ", "") for u in ids]))
    same = score_texts(ref, ref)
    assert same["wer"] == same["cer"] == 0.0 and same["word"]["sentence_errors"] == 0


# --------------------------------------------------------------------------- RESULTS.md


def _fake_exp(root: Path, name: str, test_sets: dict[str, tuple[dict, dict]], info: dict | None = None,
              energy: dict | None = None) -> Path:
    exp = root / name
    for test_set, (ref, hyp) in test_sets.items():
        set_dir = exp / "decode_asr_model_valid.acc.ave" / test_set
        ref_file = _kaldi_text(root / f"{name}.{test_set}.ref", [f"{k} {v}" for k, v in ref.items()])
        hyp_file = _kaldi_text(root / f"{name}.{test_set}.hyp", [f"{k} {v}" for k, v in hyp.items()])
        score_files(ref_file, hyp_file, set_dir / "score", token_type="char")
        if energy is not None:
            (set_dir / "energy.json").write_text(json.dumps(energy))
    if info is not None:
        (exp / "model_info.json").write_text(json.dumps(info))
    return exp


def test_results_table_puts_spiking_and_ann_side_by_side(tmp_path):
    ref = {"u1": "the cat sat", "u2": "on the mat"}
    snn_hyp = {"u1": "the bat sat", "u2": "on the mat"}
    snn = _fake_exp(tmp_path, "asr_spikeformer", {"test_clean": (ref, snn_hyp), "dev": (ref, ref)},
                    info={"name": "iml-spikeformer", "encoder": "iml_spikeformer", "parameters": 12_345_678,
                          "encoder_parameters": 9_000_000, "epochs": 70, "train_seconds": 7_300.0,
                          "best_valid": {"criterion": "valid.acc", "value": 0.91234, "epoch": 64}},
                    energy={"firing_rate": 0.1234, "energy_uj_per_utt": 12.5, "ann_energy_uj_per_utt": 60.0,
                            "ann_to_snn_ratio": 4.8})
    ann = _fake_exp(tmp_path, "asr_conformer", {"test_clean": (ref, {"u1": "the cat sat", "u2": "on mat"})})
    out = tmp_path / "RESULTS.md"
    assert results.main(["--out", str(out), str(snn), str(ann)]) == 0
    text = out.read_text(encoding="utf-8")
    assert f"- command: `python -m spikespeech.recipe.results --out {out} {snn} {ann}`" in text
    assert "- date: 20" in text and "- host: " in text
    assert "| iml-spikeformer | iml_spikeformer | 12.35M | 70 | 2h02m | valid.acc 0.9123 (64) |" in text
    assert "| asr_conformer | - | - | - | - | - |" in text
    test_clean = text.split("## test_clean\n")[1]
    assert ("| Model | Decode | Params | Snt | Wrd | WER | CER | Sub | Del | Ins | S.Err | Firing rate | "
            "Energy/utt | ANN energy/utt | ANN÷model |") in test_clean
    # snn: 1 substitution of 6 words, "cat"->"bat" 1 of 17 characters; ann: "the" deleted (3 characters)
    assert ("| iml-spikeformer | decode_asr_model_valid.acc.ave | 12.35M | 2 | 6 | 16.7 | 5.9 | 16.7 | 0.0 | "
            "0.0 | 50.0 | 0.123 | 12.5 µJ | 60 µJ | 4.80 |") in test_clean
    assert ("| asr_conformer | decode_asr_model_valid.acc.ave | - | 2 | 6 | 16.7 | 17.6 | 0.0 | 16.7 | 0.0 | "
            "50.0 | - | - | - | - |") in test_clean
    dev = text.split("## dev\n")[1].split("## test_clean")[0]
    assert "| iml-spikeformer | decode_asr_model_valid.acc.ave | 12.35M | 2 | 6 | 0.0 | 0.0 |" in dev
    assert "asr_conformer" not in dev
    # regenerated whole, never appended
    assert results.main(["--out", str(out), str(snn), str(ann)]) == 0
    assert out.read_text(encoding="utf-8").count("## test_clean") == 1


def test_tts_results_name_the_headline_recognizer_and_give_the_others_beside_it(tmp_path):
    def tts_exp(name: str, systems: dict) -> Path:
        set_dir = tmp_path / name / "decode_griffin_lim" / "test"
        (set_dir / "score").mkdir(parents=True)
        first = next(iter(systems.values()))
        scores = {"mcd_db": 7.5, "n_scored": 50, "asr_wer_syn": first["wer_syn"],
                  "asr_wer_ref": first["wer_ref"], "asr_wer_ratio": first["wer_syn"] / first["wer_ref"],
                  "asr_systems": systems}
        (set_dir / "score" / "scores.json").write_text(json.dumps(scores))
        return tmp_path / name

    both = {"whisper": {"label": "whisper base", "wer_syn": 0.6, "wer_ref": 0.03},
            "pocketsphinx": {"label": "pocketsphinx", "wer_syn": 0.7, "wer_ref": 0.27}}
    spiking = tts_exp("tts_spiking", both)
    ann = tts_exp("tts_ann", {"whisper": {"label": "whisper base", "wer_syn": 0.3, "wer_ref": 0.03}})
    md = results.write_results_md([spiking, ann], tmp_path / "r.md", command="cmd")
    table = md.split("## test\n")[1]
    assert ("| ASR-WER syn (whisper base) | ASR-WER ref (whisper base) | syn÷ref | "
            "pocketsphinx WER syn / ref |") in table
    assert "| 60.0 | 3.0 | 20.00 | 70.0 / 27.0 |" in table
    assert "| 30.0 | 3.0 | 10.00 | - |" in table


def test_results_energy_aliases_and_errors(tmp_path, capsys):
    ref = {"u1": "a b"}
    exp = _fake_exp(tmp_path, "e", {"test": (ref, ref)},
                    energy={"energy_mj_per_utt": 0.002, "ann_energy": 8.0})  # older spellings, no ratio
    md = results.write_results_md([exp], tmp_path / "r.md", command="cmd")
    assert ("| e | decode_asr_model_valid.acc.ave | - | 1 | 2 | 0.0 | 0.0 | 0.0 | 0.0 | 0.0 | 0.0 | - | "
            "2 µJ | 8 µJ | 4.00 |") in md
    assert "- command: `cmd`" in md
    assert results.main(["--out", str(tmp_path / "r.md"), str(tmp_path / "nope")]) == 2
    assert capsys.readouterr().err == f"results: error: {tmp_path / 'nope'}: experiment dir not found\n"
    (tmp_path / "empty").mkdir()
    assert results.main(["--out", str(tmp_path / "r.md"), str(tmp_path / "empty")]) == 2
    assert "no decode*/*/score/scores.json under" in capsys.readouterr().err


# --------------------------------------------------------------------------- model cards


def _card_exp(tmp_path: Path, name: str, hyp: dict) -> Path:
    ref = {"u1": "the cat sat", "u2": "on the mat"}
    exp = _fake_exp(tmp_path, name, {"test_fsdd": (ref, hyp)},
                    info={"name": name, "encoder": "iml_spikeformer", "parameters": 2_170_000, "epochs": 20,
                          "train_seconds": 1_290.0},
                    energy={"utterances": 2, "firing_rate": 0.159, "energy_uj_per_utt": 316.0,
                            "ann_energy_uj_per_utt": 429.0})
    config = yaml.safe_load((REPO / "egs/kathleen_fsdd/asr1/conf/train_asr_spiking.yaml").read_text())
    config |= {"token_type": "char", "token_list": ["<blank>", "<unk>", "a", "<sos/eos>"]}
    config["frontend_conf"]["fs"] = 8000
    (exp / "config.yaml").write_text(yaml.safe_dump(config))
    return exp


def test_model_card_is_the_recipe_text_plus_what_was_measured(tmp_path, capsys):
    exp = _card_exp(tmp_path, "asr_default", {"u1": "the bat sat", "u2": "on the mat"})
    (tmp_path / "h").mkdir()
    heldout = _card_exp(tmp_path / "h", "asr_heldout", {"u1": "a", "u2": "on the mat"})
    about = tmp_path / "about.md"
    about.write_text("# A test model\n\nIntended use: tests.\n")
    out = tmp_path / "card.md"
    assert model_card.main(["--exp", str(exp), "--about", str(about), "--recipe", "egs/x/asr1",
                            "--related", str(heldout), "--out", str(out)]) == 0
    card = out.read_text(encoding="utf-8")
    assert card.startswith("# A test model\n\nIntended use: tests.\n")
    assert ("- encoder: iml_spikeformer, 6 blocks, d 128, FFN 512, 4 heads, input layer conv2d2, "
            "output membrane") in card
    assert "- neurons: imls (4 levels), 1 time step(s); attention hd_repssa with layerwise decay mask" in card
    assert "- parameters: 2.17M\n- training: 20 epochs, 22 min of training" in card
    measured = card.split("## Measured on the held-out test sets\n")[1].split("## Related")[0]
    assert "| test_fsdd | 2 | 16.7 | 5.9 |" in measured  # 1 of 6 words, 1 of 17 characters
    related = card.split("## Related experiment: `h/asr_heldout`\n")[1].split("## Theoretical")[0]
    assert "| test_fsdd | 2 | 50.0 |" in related  # "the cat sat" -> "a": 1 sub + 2 del of 6 words
    assert "| test_fsdd | 2 | 0.159 | 316 µJ | 429 µJ | 1.36 |" in card  # 2 utterances metered
    assert "`egs/x/asr1/run.sh` trains" in card
    # no scores yet: a one-line error, nothing written
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "config.yaml").write_text("encoder: x\n")
    assert model_card.main(["--exp", str(bare), "--about", str(about), "--recipe", "r",
                            "--out", str(tmp_path / "none.md")]) == 2
    assert "no decode*/*/score/scores.json" in capsys.readouterr().err
    assert not (tmp_path / "none.md").exists()


def test_tts_card_gives_each_recognizer_its_own_row_and_the_imls_neurons(tmp_path):
    exp = tmp_path / "tts_student"
    score_dir = exp / "decode_griffin_lim" / "test" / "score"
    score_dir.mkdir(parents=True)
    systems = {"whisper": {"label": "whisper base", "wer_syn": 0.3, "wer_ref": 0.03, "wer_ratio": 10.0},
               "pocketsphinx": {"label": "pocketsphinx", "wer_syn": 0.54, "wer_ref": 0.27, "wer_ratio": 2.0}}
    (score_dir / "scores.json").write_text(json.dumps({
        "mcd_db": 7.71, "f0_rmse_hz": 40.6, "n_scored": 50, "asr": "whisper", "asr_wer_syn": 0.3,
        "asr_wer_ref": 0.03, "asr_wer_ratio": 10.0, "asr_systems": systems}))
    conf = REPO / "egs/kathleen_teacher/tts1/conf/train_spikevoice_imls_small.yaml"
    config = yaml.safe_load(conf.read_text())
    (exp / "config.yaml").write_text(yaml.safe_dump(config))
    about = tmp_path / "about.md"
    about.write_text("# A voice\n")
    out = tmp_path / "card.md"
    assert model_card.main(["--exp", str(exp), "--about", str(about), "--recipe", "egs/x/tts1",
                            "--bar", "1.5", "--out", str(out)]) == 0
    card = out.read_text(encoding="utf-8")
    assert "| test | 50 | 7.71 | 40.6 | whisper base | 30.0 | 3.0 | 10.00 | no |" in card
    assert "| test | 50 | 7.71 | 40.6 | pocketsphinx | 54.0 | 27.0 | 2.00 | no |" in card
    assert "WER of each independent recognizer (ASR column)" in card
    assert "- neurons: imls (4 levels), T = 1 time steps\n" in card


def test_ann_twin_cards_say_no_neurons_instead_of_the_unused_spiking_fields(tmp_path):
    # the TTS twin's config keeps the spiking fields (unused); the ASR transformer has none
    cases = {"tts_twin": "egs/kathleen_teacher/tts1/conf/train_fastspeech2_ann_small.yaml",
             "asr_ann": "egs/kathleen_fsdd/asr1/conf/train_asr_transformer.yaml"}
    for name, conf in cases.items():
        exp = _card_exp(tmp_path, name, {"u1": "the cat sat", "u2": "on the mat"})
        (exp / "config.yaml").write_text((REPO / conf).read_text())
        about = tmp_path / "about.md"
        about.write_text("# A model\n")
        out = tmp_path / f"{name}.md"
        assert model_card.main(["--exp", str(exp), "--about", str(about), "--recipe", "r",
                                "--out", str(out)]) == 0
        model = out.read_text(encoding="utf-8").split("## Model\n")[1].split("## Measured")[0]
        assert "imls" not in model and "hd_repssa" not in model and "threshold None" not in model
        assert "- neurons: none" in model
        if name == "tts_twin":
            assert "(ann backbone)" in model and "heads of softmax attention" in model
    # a spiking model's card names a related ANN experiment as such, and a spiking one not
    (tmp_path / "s").mkdir()
    spiking = _card_exp(tmp_path / "s", "asr_spiking", {"u1": "the cat sat", "u2": "on the mat"})
    out = tmp_path / "spiking.md"
    assert model_card.main(["--exp", str(spiking), "--about", str(about), "--recipe", "r", "--related",
                            str(tmp_path / "asr_ann"), "--related", str(spiking), "--out", str(out)]) == 0
    card = out.read_text(encoding="utf-8")
    assert f"## Related experiment: `{tmp_path.name}/asr_ann` (no spiking neurons: an ANN)\n" in card
    assert "## Related experiment: `s/asr_spiking`\n" in card
    assert "- neurons: imls (4 levels)" in card
