"""Streaming recognition (spikespeech.espnet.streaming, Transcriber.transcribe_stream,
``spikespeech transcribe --stream``): frames aligned with whole-utterance encoding, the
incremental search equal to the whole one, pauses ending segments, and no digit lost on FSDD."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml

pytest.importorskip("espnet2")

from _helpers import shared_data  # noqa: E402

from spikespeech.cli.main import main  # noqa: E402
from spikespeech.espnet import streaming  # noqa: E402
from spikespeech.espnet.asr_model import build_asr_model  # noqa: E402
from spikespeech.espnet.decoding import (  # noqa: E402
    DecodingOptions,
    beam_decoder,
    ctc_prefix_beam_search,
    encode,
)
from spikespeech.inference import Transcriber  # noqa: E402


def test_incremental_beam_search_equals_one_pass():
    log_probs = torch.randn(60, 6).log_softmax(-1)
    whole = ctc_prefix_beam_search(log_probs, beam_size=4)
    decoder = beam_decoder(6, 4)
    decoder.decode_begin()
    for start in range(0, 60, 7):
        decoder.decode_step(log_probs[start:start + 7].contiguous())
    decoder.decode_end()
    pieces = [(tuple(int(t) for t in r.tokens), float(r.score)) for r in decoder.get_final_hypothesis()]
    assert pieces == [(h.tokens, h.score) for h in whole]


@pytest.fixture(scope="module", params=["conv2d2", "conv2d"])
def frame_local_model(exp_dir, request):
    """The tiny pack's frontend and conv subsampling (x2 or x4) with no blocks and no absolute
    positions, so each encoder frame depends on a few frames around it: with some look-back,
    streamed frames must equal the whole utterance's. (With absolute positions, as the shipped
    model has, each window is encoded as an utterance of its own.)"""
    config = yaml.safe_load((exp_dir / "config.yaml").read_text())
    config["encoder"] = "transformer"
    config["encoder_conf"] = {"output_size": 16, "attention_heads": 2, "linear_units": 32,
                              "num_blocks": 0, "input_layer": request.param}
    torch.manual_seed(0)
    model = build_asr_model(copy.deepcopy(config)).eval()
    model.encoder.embed.out[1] = torch.nn.Identity()  # ESPnet's subsampling adds absolute positions
    return model


@pytest.mark.parametrize("chunk, lookback", [(0.32, 0.0), (0.32, 0.5), (0.5, 1.0)])
def test_streamed_frames_line_up_with_the_whole_utterance(frame_local_model, monkeypatch, chunk, lookback):
    fed = []
    original = streaming._Search.feed
    monkeypatch.setattr(streaming._Search, "feed",
                        lambda self, out, lp: (fed.append(out), original(self, out, lp))[1])
    audio = np.random.default_rng(0).uniform(-0.5, 0.5, 16000 * 3).astype(np.float32)
    stream = streaming.CTCStream(frame_local_model, DecodingOptions("ctc_prefix_beam", 2), 16000,
                                 chunk, lookback, min_samples=7 * 160, endpoint_seconds=None)
    ends = []
    for start in range(0, len(audio), 1000):  # pieces unrelated to the chunk size
        stream.accept(audio[start:start + 1000])
        ends.append(sum(f.size(1) for f in fed))
    stream.finish()
    streamed = torch.cat(fed, 1)[0]
    with torch.no_grad():
        whole = encode(frame_local_model, torch.from_numpy(audio))[0]
    assert streamed.shape == whole.shape  # every frame once, none lost or repeated
    interior = torch.ones(len(whole), dtype=torch.bool)
    for end in set(ends):
        interior[max(0, end - 4):end] = False  # the newest frames of a window lack right context
    if lookback > 0:  # the rest as in the whole utterance: the windows line up exactly
        torch.testing.assert_close(streamed[interior], whole[interior], rtol=1e-5, atol=1e-5)
        assert interior.sum() >= len(whole) // 3
    else:  # without look-back a window's first frames lack their left context
        assert not torch.allclose(streamed[interior], whole[interior], atol=1e-3)
    assert len(set(ends)) > 3  # several windows were decoded as the audio arrived


def test_one_chunk_stream_is_the_whole_decoding(packed):
    audio = np.random.default_rng(1).uniform(-0.3, 0.3, 8000).astype(np.float32)  # 0.5 s < chunk
    with Transcriber(packed, mode="ctc_prefix_beam", beam_size=3) as transcriber:
        assert transcriber.transcribe_stream(audio).text == transcriber.transcribe(audio).text


def test_attention_mode_cannot_stream(packed, tmp_path, capsys):
    sf.write(tmp_path / "a.wav", np.zeros(16000), 16000)
    assert main(["transcribe", "--model", str(packed), "--stream", "--mode", "attention",
                 str(tmp_path / "a.wav")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["spikespeech transcribe: error: --stream: mode 'attention' needs the whole "
                   "utterance; use ctc_greedy, ctc_prefix_beam or attention_rescoring"]
    with Transcriber(packed, mode="attention") as transcriber:
        with pytest.raises(ValueError, match="cannot stream"):
            transcriber.transcribe_stream(np.zeros(16000, dtype=np.float32))


def _digits(count: int, pause_s: float) -> tuple[np.ndarray, list[str]]:
    names = {str(i): w for i, w in enumerate("zero one two three four five six seven eight nine".split())}
    wavs = sorted((shared_data("fsdd") / "recordings").glob("*_nicolas_[0-4].wav"))[::5][:count]
    parts = []
    for wav in wavs:
        audio, rate = sf.read(wav, dtype="float32")
        assert rate == 8000
        parts += [audio, np.zeros(int(pause_s * rate), dtype=np.float32)]
    return np.concatenate(parts), [names[w.name[0]] for w in wavs]


def test_streaming_the_default_model_keeps_the_digits():
    import jiwer

    audio, words = _digits(10, pause_s=0.6)
    with Transcriber() as transcriber:
        streamed = transcriber.transcribe_stream(audio)
    # a digit cut by a chunk's end may lose a letter (measured: "thre"); no more than one here
    assert jiwer.wer(" ".join(words), streamed.text) <= 0.1
    assert len(streamed.segments) == len(words)  # each pause ended a segment
    starts = [s.start_s for s in streamed.segments]
    assert starts == sorted(starts)
    assert streamed.segments[-1].end_s == pytest.approx(len(audio) / 8000, abs=1e-3)
    latency = streamed.latency
    assert latency.chunk_s == 0.64 and 0 <= latency.mean_s <= latency.max_s
    assert latency.partials and latency.partials[-1][1].split()[:-1] == streamed.text.split()[:-1]


def test_cli_stream_json(tmp_path, capsys):
    audio, words = _digits(3, pause_s=0.8)
    sf.write(tmp_path / "digits.wav", audio, 8000)
    assert main(["transcribe", "--stream", "--format", "json", "--stream-chunk", "0.4",
                 str(tmp_path / "digits.wav")]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["text"] == " ".join(words)
    assert record["stream"]["chunk_s"] == 0.4 and record["stream"]["lookback_s"] == 2.0
    assert {"mean_latency_s", "max_latency_s", "final_latency_s", "partials"} <= set(record["stream"])
    assert [s["text"] for s in record["segments"]] == words
