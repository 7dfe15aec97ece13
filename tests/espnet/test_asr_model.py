"""The light ASR model builder (spikespeech.espnet.asr_model) and its Speech2Text
(spikespeech.espnet.light_speech2text) against ESPnet's ASRTask and Speech2Text: the same
modules, the same numbers, the same texts; and the command line that uses them imports none of
ESPnet's task registry (start-up)."""

from __future__ import annotations

import argparse
import copy
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml

pytest.importorskip("espnet2")

from _helpers import shared_data  # noqa: E402
from espnet2.tasks.asr import ASRTask  # noqa: E402
from espnet2.text.build_tokenizer import build_tokenizer  # noqa: E402

from spikespeech.espnet.asr_model import build_asr_model, load_asr_model  # noqa: E402
from spikespeech.espnet.decoding import encode  # noqa: E402
from spikespeech.espnet.light_speech2text import LightSpeech2Text, text_tokenizer  # noqa: E402
from spikespeech.espnet.speech2text import ModeSpeech2Text  # noqa: E402
from spikespeech.models import default_model  # noqa: E402

TRANSFORMER = {"output_size": 32, "attention_heads": 2, "linear_units": 64, "num_blocks": 1,
               "input_layer": "conv2d2"}
CONFORMER = {**TRANSFORMER, "cnn_module_kernel": 7, "macaron_style": True, "pos_enc_layer_type": "rel_pos",
             "selfattention_layer_type": "rel_selfattn", "use_cnn_module": True}


def _variant(config: dict, name: str) -> dict:
    config = copy.deepcopy(config)
    if name == "transformer":
        config["encoder"], config["encoder_conf"] = "transformer", dict(TRANSFORMER)
    elif name == "conformer":
        config["encoder"], config["encoder_conf"] = "conformer", dict(CONFORMER)
    elif name == "spiking_decoder":
        config["decoder"] = "iml_spikeformer"
        config["decoder_conf"] = {"attention_heads": 4, "linear_units": 64, "num_blocks": 2,
                                  "attention": {"rep_kernel": 3}}
    elif name == "ctc_only":
        config["model_conf"]["ctc_weight"] = 1.0  # ESPnet builds no decoder then
    elif name == "specaug_utterance_mvn":
        config["specaug"], config["specaug_conf"] = "specaug", {"apply_time_warp": False,
                                                               "apply_freq_mask": True,
                                                               "freq_mask_width_range": [0, 5],
                                                               "num_freq_mask": 1,
                                                               "apply_time_mask": False}
        config["normalize"], config["normalize_conf"] = "utterance_mvn", {}
    return config


def _outputs(model, speech: torch.Tensor) -> list[torch.Tensor]:
    model.eval()
    with torch.no_grad():
        encoder_out = encode(model, speech)
        outputs = [encoder_out, model.ctc.log_softmax(encoder_out)]
        if model.decoder is not None:
            tokens = torch.tensor([[model.sos, 2, 3, 4]])
            outputs.append(model.decoder(encoder_out, torch.tensor([encoder_out.size(1)]), tokens,
                                         torch.tensor([4]))[0])
    return outputs


@pytest.mark.parametrize("name", ["iml_spikeformer", "transformer", "conformer", "spiking_decoder",
                                  "ctc_only", "specaug_utterance_mvn"])
def test_light_builder_builds_espnets_model(exp_dir, name):
    config = _variant(yaml.safe_load((exp_dir / "config.yaml").read_text()), name)
    torch.manual_seed(0)
    reference = ASRTask.build_model(argparse.Namespace(**copy.deepcopy(config)))
    light = build_asr_model(copy.deepcopy(config))
    assert light is not None
    assert str(light) == str(reference)  # the same module tree, hyper-parameters included
    assert {k: v.shape for k, v in light.state_dict().items()} == \
        {k: v.shape for k, v in reference.state_dict().items()}
    assert (light.decoder is None) == (name == "ctc_only")
    light.load_state_dict(reference.state_dict(), strict=True)
    speech = torch.randn(12000)
    for ours, theirs in zip(_outputs(light, speech), _outputs(reference, speech), strict=True):
        torch.testing.assert_close(ours, theirs, rtol=0, atol=0)


def test_unknown_component_goes_through_espnets_builder(exp_dir, tmp_path):
    config = yaml.safe_load((exp_dir / "config.yaml").read_text())
    config["preencoder"], config["preencoder_conf"] = "linear", {"input_size": 80, "output_size": 80}
    assert build_asr_model(copy.deepcopy(config)) is None
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    reference = ASRTask.build_model(argparse.Namespace(**copy.deepcopy(config)))
    torch.save(reference.state_dict(), tmp_path / "model.pth")
    model, _ = load_asr_model(tmp_path / "config.yaml", tmp_path / "model.pth")
    assert type(model.preencoder).__name__ == "LinearProjection"
    speech = torch.randn(12000)
    for ours, theirs in zip(_outputs(model, speech), _outputs(reference, speech), strict=True):
        torch.testing.assert_close(ours, theirs, rtol=0, atol=0)


def test_load_refuses_weights_of_another_config(exp_dir, tmp_path):
    config = _variant(yaml.safe_load((exp_dir / "config.yaml").read_text()), "transformer")
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    with pytest.raises(ValueError, match=r"model.pth: checkpoint does not match the model config"):
        load_asr_model(tmp_path / "config.yaml", exp_dir / "model.pth")


def _fsdd_clips(count: int) -> list[np.ndarray]:
    wavs = sorted((shared_data("fsdd") / "recordings").glob("*_theo_*.wav"))[:count]
    return [sf.read(w, dtype="float32")[0] for w in wavs]


@pytest.mark.parametrize("mode", ["ctc_greedy", "ctc_prefix_beam", "attention_rescoring"])
def test_light_speech2text_equals_espnets_on_the_shipped_model(mode):
    from spikespeech.inference.pack import open_pack

    pack = open_pack(default_model("asr"))
    kwargs = {"asr_train_config": str(pack.config), "asr_model_file": str(pack.model),
              "decoding_mode": mode, "beam_size": 4, "ctc_weight": 0.3, "nbest": 3}
    light = LightSpeech2Text(**kwargs)
    reference = ModeSpeech2Text(**kwargs, lm_weight=0.0)
    import espnet2.bin.asr_inference as espnet_inference

    assert espnet_inference.ASRTask is ASRTask  # our strict task was swapped in for the build only
    for clip in _fsdd_clips(3):
        ours, theirs = light(clip), reference(clip)
        assert [r[:3] for r in ours] == [r[:3] for r in theirs]  # text, tokens, token ids
        assert [float(r[3].score) for r in ours] == [float(r[3].score) for r in theirs]
        assert ours[0][0]  # a digit was heard, so the comparison is not of empty results


def test_tokenizers_are_espnets(tmp_path):
    import sentencepiece as spm

    text = "the quick brown fox jumps over the lazy dog\nspiking networks hear digits\n" * 20
    (tmp_path / "text").write_text(text)
    spm.SentencePieceTrainer.train(input=str(tmp_path / "text"), model_prefix=str(tmp_path / "bpe"),
                                   vocab_size=30, model_type="bpe", character_coverage=1.0)
    sentence = "the lazy fox hears spiking digits"
    for token_type, bpemodel in (("char", None), ("bpe", str(tmp_path / "bpe.model"))):
        ours = text_tokenizer(token_type, bpemodel)
        theirs = build_tokenizer(token_type=token_type, bpemodel=bpemodel)
        tokens = theirs.text2tokens(sentence)
        assert ours.text2tokens(sentence) == tokens
        assert ours.tokens2text(tokens) == theirs.tokens2text(tokens) == sentence
    assert text_tokenizer(None, None) is None
    assert text_tokenizer("bpe", None) is None  # as ESPnet's Speech2Text: no text without the model


def test_transcribe_imports_no_espnet_task_registry(packed, tmp_path):
    # espnet2.tasks.asr imports every ESPnet component (g2p_en, nltk, sklearn): 8-20 s of start-up
    sf.write(tmp_path / "one.wav", np.random.default_rng(0).uniform(-0.3, 0.3, 16000), 16000)
    code = ("import sys; from spikespeech.cli.main import main; "
            f"rc = main(['transcribe', '--model', {str(packed)!r}, {str(tmp_path / 'one.wav')!r}]); "
            "print('registry:', 'espnet2.tasks.asr' in sys.modules, 'nltk' in sys.modules); sys.exit(rc)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.splitlines()[0].startswith("one\t")  # the transcript line comes first, alone
    assert out.stdout.splitlines()[-1] == "registry: False False"
