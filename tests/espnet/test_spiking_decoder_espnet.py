"""The spiking decoder in ESPnet (``decoder: iml_spikeformer``): built and trained by ESPnet's
ASR task, scored incrementally by its beam searches exactly as its full forward pass scores."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import torch
import yaml

pytest.importorskip("espnet2")

from espnet.nets.batch_beam_search import BatchBeamSearch  # noqa: E402
from espnet.nets.scorers.ctc import CTCPrefixScorer  # noqa: E402
from espnet2.bin.asr_inference import Speech2Text  # noqa: E402
from espnet2.tasks.asr import ASRTask, decoder_choices  # noqa: E402  (ours registered: conftest.py)

from spikespeech.config import ConfigError  # noqa: E402
from spikespeech.espnet import IMLSpikeformerDecoder  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TOKENS = ["<blank>", "<unk>", "a", "b", "c", "d", "e", "<sos/eos>"]
DECODER_CONF = {"attention_heads": 4, "linear_units": 128, "num_blocks": 2, "dropout_rate": 0.0,
                "attention": {"rep_kernel": 3}}


def _config() -> dict:
    config = yaml.safe_load((ROOT / "spikespeech/conf/asr/tiny.yaml").read_text())
    config.update(decoder="iml_spikeformer", decoder_conf=dict(DECODER_CONF), token_list=list(TOKENS),
                  normalize=None, input_size=None)
    return config


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    args = ASRTask.get_parser().parse_args([])  # ESPnet's defaults, then the config's values
    model = ASRTask.build_model(argparse.Namespace(**{**vars(args), **_config()}))
    speech, lengths = torch.randn(2, 16000), torch.tensor([16000, 12000])
    text, text_lengths = torch.tensor([[2, 3, 4, 5], [6, 2, 3, -1]]), torch.tensor([4, 3])
    with torch.enable_grad():
        loss, stats, _ = model(speech, lengths, text, text_lengths)
        loss.backward()  # BN statistics move off their initial values, as after training
    return model


def test_registered_built_and_trained_by_espnets_asr_task():
    assert decoder_choices.get_class("iml_spikeformer") is IMLSpikeformerDecoder
    model = _model()
    assert isinstance(model.decoder, IMLSpikeformerDecoder)
    silent = [n for n, p in model.decoder.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert silent == []


@torch.no_grad()
def test_batch_score_step_by_step_equals_the_full_forward_pass():
    model = _model().eval()
    decoder = model.decoder
    memory = torch.randn(1, 13, 64).expand(3, -1, -1)  # beam search: one utterance, n hypotheses
    ys = torch.tensor([[7, 2, 3, 4, 5], [7, 6, 6, 2, 3], [7, 4, 3, 2, 2]])
    logits, _ = decoder(memory, torch.tensor([13, 13, 13]), ys, torch.tensor([5, 5, 5]))
    full = torch.log_softmax(logits, -1)
    states = [None] * 3
    for t in range(1, 6):
        logp, states = decoder.batch_score(ys[:, :t], states, memory)
        torch.testing.assert_close(logp, full[:, t - 1], rtol=0, atol=1e-5)
    one, state = decoder.score(ys[1, :1], None, memory[1])  # ESPnet's non-batch interface
    torch.testing.assert_close(one, full[1, 0], rtol=0, atol=1e-5)


@torch.no_grad()
def test_batch_beam_search_scores_are_the_full_passes_scores():
    """ESPnet's BatchBeamSearch reorders, duplicates and drops hypotheses' states every step;
    each n-best hypothesis' decoder score must still be its full forward pass's log-probability."""
    model = _model().eval()
    encoder_out, _ = model.encode(torch.randn(1, 12000), torch.tensor([12000]))
    eos = len(TOKENS) - 1
    beam = BatchBeamSearch(scorers={"decoder": model.decoder, "ctc": CTCPrefixScorer(model.ctc, eos)},
                           weights={"decoder": 0.7, "ctc": 0.3}, beam_size=3, vocab_size=len(TOKENS),
                           sos=eos, eos=eos, token_list=TOKENS, pre_beam_score_key="full")
    hyps = beam(encoder_out[0], maxlenratio=0.0, minlenratio=0.0)
    assert len(hyps) >= 3  # every ended hypothesis, best first
    for hyp in hyps:
        ys = hyp.yseq[None, :-1]
        logits, _ = model.decoder(encoder_out, torch.tensor([encoder_out.shape[1]]), ys,
                                  torch.tensor([ys.shape[1]]))
        token_logp = torch.log_softmax(logits, -1)[0].gather(-1, hyp.yseq[1:, None])
        # a hypothesis still running at the length limit gets <eos> appended unscored (ESPnet)
        forced = len(hyp.yseq) == 1 + encoder_out.shape[1] + 1  # <sos>, maxlen tokens, <eos>
        full = token_logp[:-1].sum() if forced else token_logp.sum()
        torch.testing.assert_close(hyp.scores["decoder"], full, rtol=0, atol=1e-4)


@torch.no_grad()
def test_espnets_speech2text_decodes_with_it(tmp_path):
    model = _model().eval()
    torch.save(model.state_dict(), tmp_path / "model.pth")
    defaults = vars(ASRTask.get_parser().parse_args([]))
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({**defaults, **_config()}))
    speech2text = Speech2Text(tmp_path / "config.yaml", tmp_path / "model.pth", beam_size=3,
                              ctc_weight=0.3, maxlenratio=0.0, nbest=2)
    assert type(speech2text.beam_search).__name__ == "BatchBeamSearch"
    results = speech2text(torch.randn(12000))
    assert len(results) >= 1 and all(isinstance(token, int) for token in results[0][2])


def test_conflicting_heads_and_unknown_input_layer_are_config_errors():
    with pytest.raises(ConfigError, match="attention.heads=2 contradicts attention_heads=4"):
        IMLSpikeformerDecoder(8, 32, attention_heads=4, attention={"heads": 2})
    with pytest.raises(ConfigError, match="input_layer: only 'embed'"):
        IMLSpikeformerDecoder(8, 32, input_layer="linear")
    with pytest.raises(ConfigError, match="attention.type must be one of hd_repssa, ssa"):
        IMLSpikeformerDecoder(8, 32, attention={"type": "sdsa"})
