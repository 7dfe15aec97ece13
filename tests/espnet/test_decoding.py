"""Decoding modes (spikespeech.espnet.decoding) and their API/CLI wiring.

Properties, not recorded outputs: greedy == argmax-collapse, prefix beam scores == exact CTC
likelihoods (``ctc_loss``), batched attention rescoring == step-by-step decoder scoring,
``attention`` == ESPnet's Speech2Text. The model is the random tiny pack of _tiny_packs.py.
"""

from __future__ import annotations

import argparse
import inspect
import json
import math

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml

pytest.importorskip("espnet2")

from _helpers import shared_data  # noqa: E402
from espnet2.tasks.asr import ASRTask  # noqa: E402

from spikespeech.audio.segment import split_at_quiet_points  # noqa: E402
from spikespeech.cli.main import main  # noqa: E402
from spikespeech.decoding_modes import DEFAULT_MODE, MODES  # noqa: E402
from spikespeech.espnet.decoding import (  # noqa: E402
    DecodingOptions,
    attention_rescoring,
    ctc_greedy_search,
    ctc_prefix_beam_search,
    decode_nbest,
    encode,
    lm_log_probs,
)
from spikespeech.inference.pack import PackError, pack_asr_model  # noqa: E402
from spikespeech.inference.transcriber import Transcriber  # noqa: E402
from spikespeech.layers import fold_for_inference  # noqa: E402


def _speech(seconds: float, rate: int = 16000, seed: int = 0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    noise = np.random.default_rng(seed).standard_normal(len(t))
    tone = 0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t))
    return (tone + 0.05 * noise).astype(np.float32)


@pytest.fixture(scope="module")
def tiny(packed):
    with Transcriber(packed, mode="ctc_greedy") as transcriber:
        yield transcriber


def _ctc_log_probs(tiny, seconds: float = 0.6) -> tuple[torch.Tensor, torch.Tensor]:
    asr_model = tiny.speech2text.asr_model
    with torch.no_grad():
        encoder_out = encode(asr_model, torch.from_numpy(_speech(seconds)))
        return encoder_out, asr_model.ctc.log_softmax(encoder_out)[0]


def _ctc_log_likelihood(log_probs: torch.Tensor, tokens: tuple[int, ...]) -> float:
    """Exact CTC log-likelihood of ``tokens``, summed over every alignment by torch."""
    loss = torch.nn.functional.ctc_loss(
        log_probs[:, None, :], torch.tensor([tokens], dtype=torch.long).reshape(1, -1),
        torch.tensor([log_probs.size(0)]), torch.tensor([len(tokens)]), blank=0, reduction="sum")
    return -float(loss)


# ---- the search functions ------------------------------------------------------------------
def test_ctc_greedy_is_argmax_then_collapse():
    blank, a, b = 0, 1, 2
    frames = [a, a, blank, a, b, b, blank, blank, b, a]  # repeats merge unless a blank separates
    log_probs = torch.full((len(frames), 3), -5.0)
    log_probs[torch.arange(len(frames)), torch.tensor(frames)] = -0.1
    assert ctc_greedy_search(log_probs) == [a, a, b, b, a]
    assert ctc_greedy_search(torch.zeros(0, 3)) == []


@pytest.mark.parametrize("seed", range(5))
def test_prefix_beam_of_one_is_greedy(seed):
    # with one prefix kept and one token per frame, exactly one alignment survives: greedy's
    log_probs = torch.randn(30, 6, generator=torch.Generator().manual_seed(seed)).mul(3).log_softmax(-1)
    (best,) = ctc_prefix_beam_search(log_probs, beam_size=1)
    assert list(best.tokens) == ctc_greedy_search(log_probs)


def test_prefix_beam_scores_are_exact_ctc_likelihoods(tiny):
    _, log_probs = _ctc_log_probs(tiny)
    log_probs = log_probs[:4]  # 4 frames, 6 tokens: a beam of 1000 keeps every prefix, so nothing is pruned
    hypotheses = ctc_prefix_beam_search(log_probs, beam_size=1000)
    assert len(hypotheses) > 100
    scores = [h.score for h in hypotheses]
    assert scores == sorted(scores, reverse=True)
    for hypothesis in hypotheses[:50]:
        assert hypothesis.score == pytest.approx(_ctc_log_likelihood(log_probs, hypothesis.tokens), abs=1e-4)
    total = torch.logsumexp(torch.tensor(scores), 0)  # every labelling: probabilities sum to 1
    assert float(total) == pytest.approx(0.0, abs=1e-4)


def test_attention_rescoring_batched_equals_one_by_one(tiny):
    asr_model = tiny.speech2text.asr_model
    encoder_out, log_probs = _ctc_log_probs(tiny)
    hypotheses = ctc_prefix_beam_search(log_probs, beam_size=8)
    assert len({len(h.tokens) for h in hypotheses}) > 1  # padding is exercised
    ctc_weight = 0.3
    with torch.no_grad():
        rescored = attention_rescoring(asr_model.decoder, encoder_out, hypotheses,
                                       asr_model.sos, asr_model.eos, ctc_weight)
        expected = {h.tokens: _decoder_step_by_step(asr_model, encoder_out[0], h.tokens)
                    + ctc_weight * h.score for h in hypotheses}
    assert sorted(h.tokens for h in rescored) == sorted(expected)
    for hypothesis in rescored:
        assert hypothesis.score == pytest.approx(expected[hypothesis.tokens], abs=1e-3)
    assert rescored[0].tokens == max(expected, key=expected.get)


def _decoder_step_by_step(asr_model, memory: torch.Tensor, tokens: tuple[int, ...]) -> float:
    """The decoder's log-prob of ``tokens`` + <eos>, one token at a time (ESPnet's scorer API)."""
    ys, state, total = torch.tensor([asr_model.sos]), None, 0.0
    for token in (*tokens, asr_model.eos):
        log_probs, state = asr_model.decoder.score(ys, state, memory)
        total += float(log_probs[token])
        ys = torch.cat([ys, torch.tensor([token])])
    return total


def test_lm_rescoring_scores_equal_espnets_step_by_step_lm_scores(tiny):
    """The batched LM pass gives each hypothesis the log-prob ESPnet's beam search would add up
    token by token (``score()``), so n-best LM rescoring ranks as shallow fusion would score."""
    from espnet2.lm.seq_rnn_lm import SequentialRNNLM

    asr_model = tiny.speech2text.asr_model
    torch.manual_seed(0)
    lm = SequentialRNNLM(asr_model.vocab_size, unit=16, nlayers=1).eval()
    hypotheses = [(2, 3, 3), (4,), (), (2, 4, 3, 2)]
    with torch.no_grad():
        batched = lm_log_probs(lm, hypotheses, asr_model.sos, asr_model.eos, torch.device("cpu"))
        for tokens, score in zip(hypotheses, batched.tolist(), strict=True):
            ys, state, total = torch.tensor([asr_model.sos]), None, 0.0
            for token in (*tokens, asr_model.eos):
                log_probs, state = lm.score(ys, state, None)
                total += float(log_probs[token])
                ys = torch.cat([ys, torch.tensor([token])])
            assert score == pytest.approx(total, abs=1e-4)


def test_lm_weight_reranks_the_nbest(tiny):
    """An LM that prefers one hypothesis moves it to the top once its weight is large enough."""
    asr_model = tiny.speech2text.asr_model
    speech = torch.from_numpy(_speech(0.8, seed=5))
    with torch.no_grad():
        plain = decode_nbest(asr_model, speech, DecodingOptions("ctc_prefix_beam", beam_size=6))
    favourite = plain[-1].tokens

    class Biased(torch.nn.Module):  # log-prob 0 for the favourite's tokens, -5 for any other
        def forward(self, inputs, state):
            logits = torch.full((*inputs.shape, asr_model.vocab_size), -5.0)
            for row in range(inputs.size(0)):
                for step, token in enumerate((*favourite, asr_model.eos)):
                    if step < inputs.size(1):
                        logits[row, step, token] = 5.0
            return logits, state

    with torch.no_grad():
        options = DecodingOptions("ctc_prefix_beam", beam_size=6, lm_weight=10.0)
        assert decode_nbest(asr_model, speech, options, lm=Biased())[0].tokens == favourite
        off = DecodingOptions("ctc_prefix_beam", beam_size=6, lm_weight=0.0)
        assert decode_nbest(asr_model, speech, off, lm=Biased()) == plain


@pytest.mark.slow  # two ESPnet inference processes
def test_recipe_decode_stage_switches_mode(exp_dir, tmp_path):
    """``spikespeech.bin.asr_inference --decoding_mode MODE`` (the recipes' --inference_args)
    writes ESPnet's output files with the hypotheses of that mode."""
    import subprocess
    import sys

    from spikespeech.espnet.speech2text import ModeSpeech2Text

    clips = {f"utt{i}": _speech(0.5 + 0.2 * i, seed=10 + i) for i in range(3)}
    for key, audio in clips.items():
        sf.write(tmp_path / f"{key}.wav", audio, 16000)
    (tmp_path / "wav.scp").write_text("".join(f"{k} {tmp_path / k}.wav\n" for k in clips))
    for mode in ("ctc_prefix_beam", "attention_rescoring"):
        out = subprocess.run(
            [sys.executable, "-m", "spikespeech.bin.asr_inference", "--asr_train_config",
             str(exp_dir / "config.yaml"), "--asr_model_file", str(exp_dir / "model.pth"),
             "--data_path_and_name_and_type", f"{tmp_path / 'wav.scp'},speech,sound",
             "--output_dir", str(tmp_path / mode), "--ngpu", "0", "--beam_size", "3",
             "--ctc_weight", "0.4", "--decoding_mode", mode],
            capture_output=True, text=True, timeout=300,
        )
        assert out.returncode == 0, out.stderr[-2000:]
        written = dict(line.partition(" ")[::2] for line in
                       (tmp_path / mode / "1best_recog/text").read_text().splitlines())
        speech2text = ModeSpeech2Text(asr_train_config=str(exp_dir / "config.yaml"),
                                      asr_model_file=str(exp_dir / "model.pth"), beam_size=3,
                                      ctc_weight=0.4, decoding_mode=mode)
        expected = {k: speech2text(torch.from_numpy(sf.read(tmp_path / f"{k}.wav", dtype="float32")[0]))[0][0]
                    for k in clips}  # the 16-bit samples ESPnet's loader reads
        assert written == expected and any(expected.values())


def test_ctc_only_model_refuses_attention_rescoring(exp_dir, tmp_path):
    config = yaml.safe_load((exp_dir / "config.yaml").read_text())
    config["model_conf"]["ctc_weight"] = 1.0  # ESPnet builds no attention decoder then
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    args = argparse.Namespace(**config)
    torch.manual_seed(0)
    torch.save(ASRTask.build_model(args).state_dict(), tmp_path / "model.pth")
    packed = pack_asr_model(tmp_path / "config.yaml", tmp_path / "model.pth", tmp_path / "ctc.zip")
    with pytest.raises(PackError, match="ctc.zip: has no attention decoder; use mode ctc_greedy"):
        Transcriber(packed, mode="attention_rescoring")
    with Transcriber(packed, mode="ctc_prefix_beam", beam_size=2) as transcriber:
        assert isinstance(transcriber.transcribe(_speech(0.6)).text, str)


def test_options_reject_unknown_modes():
    with pytest.raises(ValueError, match="decoding mode 'beam' is unknown"):
        DecodingOptions(mode="beam")
    assert set(MODES) == {"ctc_greedy", "ctc_prefix_beam", "attention_rescoring", "attention"}


# ---- the Transcriber -----------------------------------------------------------------------
def test_attention_mode_is_espnets_joint_beam_search(packed):
    from espnet2.bin.asr_inference import Speech2Text  # ESPnet's own, our strict loader patched in

    audio = _speech(0.8, seed=3)
    with Transcriber(packed, mode="attention", beam_size=3, ctc_weight=0.4) as transcriber:
        text = transcriber.transcribe(audio).text
        pack = transcriber.pack
        speech2text = Speech2Text(asr_train_config=str(pack.config), asr_model_file=str(pack.model),
                                  beam_size=3, ctc_weight=0.4, lm_weight=0.0, nbest=1)
        fold_for_inference(speech2text.asr_model.encoder, inplace=True)
        with torch.no_grad():
            assert text == speech2text(torch.from_numpy(audio))[0][0].strip()


def test_ctc_modes_give_text_of_their_tokens(tiny):
    audio = _speech(0.8, seed=1)
    asr_model = tiny.speech2text.asr_model
    with torch.no_grad():
        tokens = ctc_greedy_search(asr_model.ctc.log_softmax(encode(asr_model, torch.from_numpy(audio)))[0])
    words = tiny.speech2text.converter.ids2tokens([t for t in tokens if t != asr_model.eos])
    assert tiny.transcribe(audio).text == tiny.speech2text.tokenizer.tokens2text(words).strip()


def test_chunks_of_long_audio_still_join(packed):
    audio = np.concatenate([_speech(0.9, seed=s) for s in range(4)])
    with Transcriber(packed, mode="ctc_prefix_beam", beam_size=4, chunk_seconds=1.0) as transcriber:
        result = transcriber.transcribe(audio)
        pieces = split_at_quiet_points(audio, transcriber.sample_rate, 1.0,
                                       min_samples=transcriber.min_samples)
        texts = [transcriber.transcribe(piece).text for piece in pieces]
    assert result.chunks == len(pieces) > 1
    assert result.text == " ".join(t for t in texts if t)
    assert result.text  # the random model says something, so the join is not vacuous


# ---- the CLI -------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_cli_mode_end_to_end(mode, packed, tmp_path, capsys):
    clip = tmp_path / "clip.wav"
    sf.write(clip, _speech(0.6), 16000)
    assert main(["transcribe", "--model", str(packed), "--mode", mode, "--beam-size", "2",
                 "--format", "json", str(clip)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["mode"] == mode and isinstance(record["text"], str)
    assert math.isfinite(record["decode_s"])


def test_cli_json_gives_the_segments_of_long_audio(packed, tmp_path, capsys):
    """Audio longer than --chunk-seconds is cut in its pauses; the JSON says where each segment
    lies, its text is theirs joined, and silence (digital silence included) decodes to nothing."""
    pause = np.zeros(12800, dtype=np.float32)  # 0.8 s
    audio = np.concatenate([pause, _speech(0.7, seed=1), pause, _speech(0.8, seed=2), pause,
                            _speech(0.6, seed=3), pause])
    sf.write(tmp_path / "long.wav", audio, 16000)
    sf.write(tmp_path / "silent.wav", np.zeros(3 * 16000, dtype=np.float32), 16000)
    assert main(["transcribe", "--model", str(packed), "--chunk-seconds", "1", "--energy",
                 "--format", "json", str(tmp_path / "long.wav"), str(tmp_path / "silent.wav")]) == 0
    long, silent = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    segments = long["segments"]
    assert long["chunks"] == len(segments) == 3
    speech_starts, speech_ends = (0.8, 2.3, 3.9), (1.5, 3.1, 4.5)
    for segment, start, end in zip(segments, speech_starts, speech_ends, strict=True):
        assert start - 0.15 <= segment["start"] <= start and end <= segment["end"] <= end + 0.15
    assert long["text"] == " ".join(s["text"] for s in segments if s["text"])
    assert silent["segments"] == [] and silent["text"] == ""
    assert silent["energy"]["ann_to_snn_ratio"] is None


def test_cli_bad_mode_is_a_usage_error(packed, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["transcribe", "--model", str(packed), "--mode", "beam", str(tmp_path / "x.wav")])
    assert exit_info.value.code == 2
    assert "argument --mode: invalid choice: 'beam'" in capsys.readouterr().err


def test_demo_cli_bad_asr_mode_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--asr-mode", "fast"])
    assert exit_info.value.code == 2
    assert "argument --asr-mode: invalid choice: 'fast'" in capsys.readouterr().err


def test_demo_transcriber_uses_the_mode_given(packed, packed_tiny_model):
    from spikespeech.demo.models import DemoModels

    assert inspect.signature(DemoModels).parameters["asr_mode"].default == DEFAULT_MODE
    models = DemoModels(packed, packed_tiny_model, asr_mode="ctc_greedy")
    try:
        assert models.transcriber.mode == "ctc_greedy"
        models.switch("asr", str(packed))  # a switched-in model keeps the demo's mode
        assert models.transcriber.mode == "ctc_greedy"
    finally:
        models.close()


@pytest.mark.slow
def test_default_mode_keeps_the_shipped_model_on_fsdd_test():
    """The default mode on the shipped model: FSDD's official test takes (0-4), every digit
    and speaker, word error <= 3 % (the bar for the shipped model)."""
    from spikespeech.models import default_model

    digits = "zero one two three four five six seven eight nine".split()
    files = sorted(p for p in (shared_data("fsdd") / "recordings").glob("*.wav")
                   if int(p.stem.rsplit("_", 1)[1]) <= 4)[::10]
    with Transcriber(default_model("asr")) as transcriber:
        assert transcriber.mode == DEFAULT_MODE
        wrong = sum(transcriber.transcribe(p).text != digits[int(p.stem[0])] for p in files)
    assert len(files) == 30 and wrong / len(files) <= 0.03
