"""Offline TTS text frontend: English normalization and espeak phonemes, Mandarin pinyin, unknown
characters, sentence splitting and the Kaldi ``text`` converter CLI."""

from __future__ import annotations

import subprocess
import sys
import threading
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spikespeech.text import Frontend, FrontendError, UnknownCharacterWarning, mandarin, split_sentences
from spikespeech.text import __main__ as cli
from spikespeech.text.english import normalize
from spikespeech.text.numbers import cardinal, ordinal

EN = Frontend("en")
ZH = Frontend("zh")


# ---- English normalization -------------------------------------------------------------------------

@pytest.mark.parametrize("text,spoken", [
    ("I have 3 cats and 1,234 dogs.", "I have three cats and one thousand two hundred thirty four dogs."),
    ("pi is 3.14", "pi is three point one four"),
    ("It is -5 outside", "It is minus five outside"),
    ("agent 007", "agent zero zero seven"),
    ("He came 1st, she 22nd, they 103rd.", "He came first, she twenty second, they one hundred third."),
    ("Born in 1984, moved in 2005, left in 1905.",
     "Born in nineteen eighty four, moved in two thousand five, left in nineteen oh five."),
    ("the 1990s and the 80s", "the nineteen nineties and the eighties"),
    ("On March 3, 2024 we met.", "On March third, twenty twenty four we met."),
    ("Due 2024-03-03.", "Due March third, twenty twenty four."),
    ("Due 3/4/2024", "Due March fourth, twenty twenty four"),
    ("Jan. 5 and 2nd of May", "January fifth and second of May"),
    ("at 3:30 pm", "at three thirty pee em"),
    ("at 9:05, 15:00 and 7 a.m. Then", "at nine oh five, fifteen hundred and seven ay em. Then"),
    ("It costs $3.50.", "It costs three dollars and fifty cents."),
    ("£10, $1, $0.05 and €5 million", "ten pounds, one dollar, five cents and five million euros"),
    ("up 50% or 3.5 %", "up fifty percent or three point five percent"),
    ("3/4 of 5 km, 1 kg at 60 km/h",
     "three quarters of five kilometers, one kilogram at sixty kilometers per hour"),
    ("Mr. Smith and Dr. Jones live on Main St. in St. Louis.",
     "mister Smith and doctor Jones live on Main street in saint Louis."),
    ("apples, e.g. red ones, i.e. ripe; A vs. B", "apples, for example red ones, that is ripe; A versus B"),
    ("pears etc. The end", "pears et cetera. The end"),
    ("No. 5 & the U.S.A.", "number five and the you ess ay."),
    ("well-known — “quoted” (aside)...", "well known, quoted aside."),
])
def test_english_normalization(text, spoken):
    assert normalize(text) == (spoken, [])


@pytest.mark.parametrize("n,words,nth", [
    (0, "zero", "zeroth"), (12, "twelve", "twelfth"), (20, "twenty", "twentieth"),
    (101, "one hundred one", "one hundred first"), (1_000_002, "one million two", "one million second"),
    (999_000_000_000_999, "nine hundred ninety nine trillion nine hundred ninety nine",
     "nine hundred ninety nine trillion nine hundred ninety ninth"),
])
def test_number_words(n, words, nth):
    assert (cardinal(n), ordinal(n)) == (words, nth)


def test_normalized_english_has_no_digits_left():
    spoken, _ = normalize("Call 555-1234 at 10:30 on 12/25/99, room 42B, 7.5 GB")
    assert not any(c.isdigit() for c in spoken)


# ---- English phonemes ------------------------------------------------------------------------------

def test_hello_phonemes():
    tokens = EN("hello")
    assert tokens[0] == "h" and "l" in tokens and tokens[-1] == "ˈoʊ"  # stress marks sit on the vowel
    assert tokens[1] in ("ə", "ʌ", "ɛ")


def test_word_boundaries_and_punctuation_tokens():
    assert EN("hello world").count("|") == 1
    tokens = EN("Hello, world!")
    assert "," in tokens and tokens[-1] == "!" and "|" not in tokens  # the pause replaces the boundary
    assert EN("What?!")[-1] == "?"  # a run of marks keeps the strongest
    assert EN.to_phoneme_string("Hello, world!").split() == tokens


def test_batch_matches_single_calls_and_threads_agree():
    texts = ["The quick brown fox.", "Jumps over 2 lazy dogs!", "It's 3:30 pm."]
    assert [c.tokens for c in EN.convert(texts)] == [EN(t) for t in texts]
    results: dict[int, list[str]] = {}
    threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, EN(texts[i % 3])))
               for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(results[i] == EN(texts[i % 3]) for i in range(6))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzAEIOU éø0123456789.,!?;:'-$%&/"),
               min_size=1, max_size=40))
def test_english_tokens_stay_in_the_inventory(text):
    inventory = set(EN.symbols())
    result = EN.convert([text])[0]
    assert set(result.tokens) <= inventory
    assert not any(c.isspace() for tok in result.tokens for c in tok)
    assert result.error is not None or result.tokens[0] not in (",", ".", "?", "!", ";", ":", "|")


# ---- Mandarin --------------------------------------------------------------------------------------

def test_nihao_initials_and_tonal_finals():
    assert Frontend("zh", sandhi=False)("你好") == ["n", "i3", "h", "ao3"]
    assert ZH("你好") == ["n", "i2", "h", "ao3"]  # third-tone sandhi inside the word
    assert ZH("你好吗？") == ["n", "i2", "h", "ao3", "m", "a5", "?"]  # neutral tone is 5
    assert ZH("有绿鱼") == ["iou3", "l", "v4", "v2"]  # pypinyin strict finals, as ESPnet's Baker recipe


def test_sandhi_only_within_words():
    assert ZH("好好学习") == ["h", "ao2", "h", "ao3", "x", "ve2", "x", "i2"]
    assert ZH("我很好") == ["uo3", "h", "en3", "h", "ao3"]  # three one-character words: documented limit


@pytest.mark.parametrize("n,chinese", [
    (0, "零"), (10, "十"), (12, "十二"), (20, "二十"), (105, "一百零五"), (1005, "一千零五"),
    (1500, "一千五百"), (10050, "一万零五十"), (100000, "十万"), (110000, "十一万"),
    (100010000, "一亿零一万"),
    (10000001, "一千万零一"),
])
def test_chinese_integers(n, chinese):
    assert mandarin.integer(n) == chinese


@pytest.mark.parametrize("text,normalized", [
    ("我有3个苹果", "我有三个苹果"), ("1,234元", "一千二百三十四元"), ("增长50%", "增长百分之五十"),
    ("温度-5.5度", "温度负五点五度"), ("2024年", "二零二四年"), ("现在3:05", "现在三点零五分"),
    ("１２３号", "一百二十三号"), ("2024-03-03", "二零二四年三月三日"),
])
def test_chinese_numbers(text, normalized):
    assert mandarin.normalize(text) == (normalized, [])


def test_erhua_and_pauses():
    assert ZH("哪儿") == ["n", "a3", "&r"]
    assert ZH("一点儿") == ["i4", "d", "ian3", "&r"]
    assert ZH("女儿") == ["n", "v3", "er2"]  # syllabic 儿
    assert ZH("儿子")[:1] == ["er2"]
    assert ZH("“你好”，《世界》！……") == ["n", "i2", "h", "ao3", ",", "sh", "i4", "j", "ie4", "!"]


def test_every_common_han_character_maps_into_the_inventory():
    from pypinyin.constants import PINYIN_DICT

    chars = "".join(chr(k) for k in sorted(PINYIN_DICT) if 0x4E00 <= k <= 0x9FFF)
    tokens, unread = mandarin.tokens(" ".join(chars), sandhi=False)
    assert not unread and set(tokens) <= set(ZH.symbols())
    assert len(set(ZH.symbols())) == len(ZH.symbols())


# ---- unknown characters and errors -----------------------------------------------------------------

def test_unknown_characters_dropped_with_one_warning():
    with pytest.warns(UnknownCharacterWarning) as record:
        tokens = EN("Hi 😀 there 你好")
    assert len(record) == 1 and all(repr(c) in str(record[0].message) for c in "😀你好")
    assert tokens == EN("Hi there")
    with pytest.warns(UnknownCharacterWarning, match="'P'") as record:
        assert ZH("我用iPhone打电话") == ZH("我用打电话")
    assert len(record) == 1


@pytest.mark.parametrize("text", ["", "   ", "😀😀", "...", "😀" * 100])
def test_nothing_to_speak_is_a_frontend_error(text):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the error names the dropped characters: no warning as well
        with pytest.raises(FrontendError, match="nothing to speak in") as exc:
            EN(text)
    message = str(exc.value)
    assert isinstance(exc.value, ValueError) and "\n" not in message and len(message) < 120
    with pytest.raises(FrontendError):
        ZH(text)


def test_bad_input_types_and_languages():
    with pytest.raises(TypeError, match="takes a str, got int"):
        EN(5)
    with pytest.raises(TypeError):
        split_sentences(None)
    with pytest.raises(ValueError, match="unsupported language 'fr'"):
        Frontend("fr")


# ---- split_sentences -------------------------------------------------------------------------------

def test_split_sentences_at_boundaries_but_not_abbreviations():
    text = ("Mr. Smith went to Washington. He said hi! Really? Yes; ok. 你好。再见！"
            "J. K. Rowling wrote e.g. books.")
    assert split_sentences(text, max_chars=200) == [
        "Mr. Smith went to Washington.", "He said hi!", "Really?", "Yes;", "ok.", "你好。", "再见！",
        "J. K. Rowling wrote e.g. books."]


def test_split_overlong_sentence_at_commas_then_spaces():
    text = "one two three, four five six, seven eight nine ten eleven twelve thirteen."
    pieces = split_sentences(text, max_chars=30)
    assert pieces[:2] == ["one two three, four five six,", "seven eight nine ten eleven"]
    assert all(len(p) <= 30 for p in pieces) and " ".join(pieces).split() == text.split()


def _squeeze(s: str) -> str:
    return "".join(s.split())


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab Z1.,!?;:\n。！？；，你好 "), max_size=300),
       st.integers(min_value=1, max_value=60))
def test_split_sentences_keeps_every_character(text, max_chars):
    pieces = split_sentences(text, max_chars=max_chars)
    assert _squeeze("".join(pieces)) == _squeeze(text)
    assert all(p and p == p.strip() and len(p) <= max_chars for p in pieces)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="abcXY1.,!?;:'", min_size=1, max_size=12), max_size=60),
       st.integers(min_value=12, max_value=80))
def test_split_sentences_keeps_every_word(words, max_chars):
    text = " ".join(words)
    assert " ".join(split_sentences(text, max_chars=max_chars)).split() == text.split()


# ---- CLI -------------------------------------------------------------------------------------------

def test_cli_converts_kaldi_text_and_skips_failures(tmp_path, capsys):
    src, dst = tmp_path / "text", tmp_path / "text.phn"
    src.write_text("utt1 Hello, world.\nutt2 😀\nutt3\nutt4\tIt costs $3.\nutt1 again\n", encoding="utf-8")
    assert cli.main(["--language", "en", str(src), str(dst)]) == 1
    lines = dst.read_text(encoding="utf-8").splitlines()
    assert [line.split()[0] for line in lines] == ["utt1", "utt4"]
    assert lines[0] == "utt1 " + EN.to_phoneme_string("Hello, world.")
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 4  # three failures, one line each, and one line listing dropped characters
    assert any("utt2" in e and "nothing to speak" in e for e in err)
    assert any("utt3" in e and "no text" in e for e in err)
    assert any(":5: utt1" in e and "duplicate" in e for e in err)


def test_cli_mandarin_success_exit_zero(tmp_path):
    src, dst = tmp_path / "text", tmp_path / "out"
    src.write_text("a 你好。\nb 我有3个苹果\n", encoding="utf-8")
    assert cli.main(["--language", "zh", "--no-sandhi", str(src), str(dst)]) == 0
    assert dst.read_text(encoding="utf-8").splitlines()[0] == "a n i3 h ao3 ."


def test_cli_bad_arguments_exit_two(tmp_path, capsys):
    assert cli.main(["--language", "en", str(tmp_path / "missing"), str(tmp_path / "out")]) == 2
    assert "file not found" in capsys.readouterr().err
    (tmp_path / "text").write_text("u hi\n")
    assert cli.main(["--language", "en", str(tmp_path / "text"), str(tmp_path / "no" / "out")]) == 2
    with pytest.raises(SystemExit) as exc:
        cli.main([str(tmp_path / "text"), str(tmp_path / "out")])  # --language is required
    assert exc.value.code == 2


def test_cli_output_is_replaced_atomically(tmp_path, monkeypatch):
    src, dst = tmp_path / "text", tmp_path / "out"
    src.write_text("".join(f"u{i} word number {i}\n" for i in range(5)), encoding="utf-8")
    dst.write_text("old\n")
    calls, convert = [], Frontend.convert

    def failing_convert(self, texts):
        calls.append(texts)
        if len(calls) == 2:
            raise RuntimeError("interrupted")
        return convert(self, texts)

    monkeypatch.setattr(cli, "_BATCH", 2)
    monkeypatch.setattr(cli.Frontend, "convert", failing_convert, raising=True)
    with pytest.raises(RuntimeError):
        cli.main(["--language", "en", str(src), str(dst)])
    assert dst.read_text() == "old\n" and sorted(p.name for p in tmp_path.iterdir()) == ["out", "text"]


def test_cli_runs_as_a_module(tmp_path):
    src, dst = tmp_path / "text", tmp_path / "out"
    src.write_text("u1 hello\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "spikespeech.text", "--language", "en", str(src), str(dst)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert dst.read_text(encoding="utf-8") == "u1 " + EN.to_phoneme_string("hello") + "\n"
