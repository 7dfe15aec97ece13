"""Energy per scope: a report split by module-name prefixes adds up to the whole, every ratio
comes with its scope's name, and the shipped ASR pack is metered whole during its decode."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from spikespeech.energy import EnergyReport, LayerEnergy, NeuronActivity, Scope, measure_energy, split_scopes
from spikespeech.neurons import IMLSNeuron


def _layer(name: str, macs: float = 0.0, acs: float = 0.0, ann: float = 0.0) -> LayerEnergy:
    return LayerEnergy(name=name, op="linear", input="real" if acs == 0 else "binary", macs=macs, acs=acs,
                       ann_macs=ann)


def _report() -> EnergyReport:
    layers = [_layer("encoder.embed.conv.0", macs=100, ann=100),
              _layer("encoder.encoder.layers.0.fc", acs=300, ann=200),
              _layer("decoder.layers.0.fc", macs=50, ann=50),
              _layer("decoder_norm.fc", macs=7, ann=7),  # "decoder" must not cover it
              _layer("ctc.ctc_lo", acs=10, ann=20)]
    neurons = [NeuronActivity("encoder.encoder.layers.0.neuron", spikes=3, slots=12)]
    return EnergyReport(layers, neurons, e_mac_pj=4.0, e_ac_pj=1.0, scope="whole model")


SCOPES = (Scope("front-end", ("encoder.embed",)), Scope("encoder blocks", ("encoder",)),
          Scope("decoder", ("decoder",), unit="output token"), Scope("CTC head", ("ctc",)))


def test_scopes_add_up_to_the_whole_and_take_the_first_match():
    scoped = split_scopes(_report(), SCOPES, units={"decoder": 5})
    names = [s.scope for s in scoped.scopes]
    assert names == ["front-end", "encoder blocks", "decoder", "CTC head", "other"]
    assert [x.name for x in scoped.part("front-end").layers] == ["encoder.embed.conv.0"]  # not "encoder"
    assert [x.name for x in scoped.part("other").layers] == ["decoder_norm.fc"]
    for total in ("macs", "acs", "ann_macs", "energy_pj", "ann_energy_pj"):
        assert sum(getattr(s, total) for s in scoped.scopes) == pytest.approx(getattr(scoped, total))
    assert sum(len(s.layers) for s in scoped.scopes) == len(scoped.layers)
    assert sum(len(s.neurons) for s in scoped.scopes) == len(scoped.neurons)


def test_other_is_listed_only_when_something_falls_into_it():
    report = _report()
    report.layers = [x for x in report.layers if x.name != "decoder_norm.fc"]
    scoped = split_scopes(report, SCOPES)
    assert [s.scope for s in scoped.scopes] == ["front-end", "encoder blocks", "decoder", "CTC head"]
    with pytest.raises(KeyError, match="no energy scope 'other'"):
        scoped.part("other")
    # a scope that did not run is still listed, with nothing to compare
    scoped = split_scopes(report, (*SCOPES, Scope("joint network", ("joint_network",))))
    idle = scoped.part("joint network")
    assert idle.energy_pj == 0 and idle.ratio is None and idle.summary()["ann_to_snn_ratio"] is None
    with pytest.raises(ValueError, match="distinct names"):
        split_scopes(report, (Scope("a", ("x",)), Scope("a", ("y",))))
    with pytest.raises(ValueError, match="other than 'other'"):
        split_scopes(report, (Scope("other", ("x",)),))


def test_ratio_firing_rate_and_energy_per_unit_of_each_scope():
    scoped = split_scopes(_report(), SCOPES, units={"decoder": 5})
    front, blocks, decoder, ctc = (scoped.part(name)
                                   for name in ("front-end", "encoder blocks", "decoder", "CTC head"))
    assert front.ratio == pytest.approx(1.0) and front.scope_firing_rate is None  # real-valued: MACs
    assert blocks.energy_pj == 300 * 1.0 and blocks.ann_energy_pj == 200 * 4.0
    assert blocks.ratio == pytest.approx(800 / 300) and blocks.scope_firing_rate == pytest.approx(3 / 12)
    assert ctc.ratio == pytest.approx(80 / 10)
    assert decoder.per_unit_pj(decoder.energy_pj) == pytest.approx(50 * 4.0 / 5)
    whole = scoped.whole()
    assert whole.scope == "whole model"
    assert whole.ratio == pytest.approx((100 + 200 + 50 + 7 + 20) * 4.0 / scoped.energy_pj)
    summary = decoder.summary(per=2.0, suffix="_per_utt")
    assert summary["scope"] == "decoder" and summary["output_tokens"] == 5
    assert summary["energy_uj_per_utt"] == pytest.approx(200 / 1e6 / 2)
    assert summary["energy_uj_per_output_token"] == pytest.approx(40 / 1e6)  # not divided by per


def _ratios_have_scopes(node) -> bool:
    """Every object in ``node`` that gives a ratio also names its scope."""
    if isinstance(node, dict):
        if "ann_to_snn_ratio" in node and not node.get("scope"):
            return False
        return all(_ratios_have_scopes(v) for v in node.values())
    if isinstance(node, list):
        return all(_ratios_have_scopes(v) for v in node)
    return True


def test_table_and_json_name_every_scope():
    model = nn.Sequential(nn.Linear(4, 4), IMLSNeuron(levels=4), nn.Linear(4, 2))
    report = measure_energy(model, torch.randn(3, 4), scope="toy")
    scoped = split_scopes(report, (Scope("in", ("0",)), Scope("out", ("2",))), whole="toy")
    data = json.loads(scoped.to_json())
    assert data["total"]["scope"] == "toy" and [s["scope"] for s in data["scopes"]] == ["in", "out", "other"]
    assert _ratios_have_scopes(data) and _ratios_have_scopes(scoped.summary())
    assert data["total"]["energy_pj"] == pytest.approx(sum(s["energy_uj"] for s in data["scopes"]) * 1e6)
    table = scoped.format_table()
    assert "toy: SNN energy" in table  # the layer table's total names its scope
    lines = scoped.format_scopes().splitlines()
    assert [line.split()[0] for line in lines[2:5]] == ["in", "out", "other"] and lines[6].startswith("toy")


# ---- the shipped ASR pack: the whole model metered during the decode --------------------------

@pytest.fixture(scope="module")
def fsdd_clip():
    pytest.importorskip("espnet2")
    from _helpers import shared_data

    return shared_data("fsdd") / "recordings" / "3_george_0.wav"


@pytest.mark.parametrize("mode", ["attention_rescoring", "attention", "ctc_greedy"])
def test_transcriber_reports_each_scope_of_the_decode(mode, fsdd_clip):
    from spikespeech import Transcriber

    with Transcriber(mode=mode) as asr:
        result = asr.transcribe(fsdd_clip, energy=True)
    assert result.text == "three"
    scoped = result.energy
    assert [s.scope for s in scoped.scopes] == ["front-end", "encoder blocks", "decoder", "CTC head"]
    front, blocks, decoder, ctc = scoped.scopes
    assert front.macs > 0 and front.acs == 0 and front.ratio == pytest.approx(1.0)  # real input: MACs
    assert blocks.acs > 0 and blocks.ratio > 1 and 0 < blocks.scope_firing_rate < 1
    assert ctc.energy_pj > 0
    assert decoder.units == len("three")  # character tokens
    if mode == "ctc_greedy":  # no decoder in a CTC-only mode
        assert decoder.energy_pj == 0 and decoder.ratio is None
    else:
        assert decoder.energy_pj > 0
        assert decoder.per_unit_pj(decoder.energy_pj) == pytest.approx(decoder.energy_pj / 5)
    assert scoped.energy_pj == pytest.approx(sum(s.energy_pj for s in scoped.scopes))
    assert scoped.ann_to_snn_ratio < blocks.ratio  # the real-valued parts pull the whole down


def test_a_streamed_decode_is_metered_whole_too(fsdd_clip):
    from spikespeech import Transcriber

    with Transcriber() as asr:
        scoped = asr.transcribe_stream(fsdd_clip, energy=True).energy
    assert [s.scope for s in scoped.scopes] == ["front-end", "encoder blocks", "decoder", "CTC head"]
    assert all(s.energy_pj > 0 for s in scoped.scopes)  # the rescoring at the segment's end included
    assert scoped.part("decoder").units == len("three")


def test_autoregressive_decoding_costs_more_than_rescoring(fsdd_clip):
    from spikespeech import Transcriber

    per_token = {}
    for mode in ("attention_rescoring", "attention"):
        with Transcriber(mode=mode, beam_size=4) as asr:
            decoder = asr.transcribe(fsdd_clip, energy=True).energy.part("decoder")
        per_token[mode] = decoder.per_unit_pj(decoder.energy_pj)
    assert per_token["attention"] > per_token["attention_rescoring"] > 0


def test_transcribe_json_has_no_ratio_without_its_scope(fsdd_clip, capsys):
    from spikespeech.cli.main import main

    assert main(["transcribe", "--format", "json", "--energy", str(fsdd_clip)]) == 0
    energy = json.loads(capsys.readouterr().out)["energy"]
    assert _ratios_have_scopes(energy)
    assert energy["scope"] == "encoder" and energy["parts"] == ["front-end", "encoder blocks"]
    assert [s["scope"] for s in energy["scopes"]] == ["front-end", "encoder blocks", "decoder", "CTC head"]
    assert energy["whole_model"]["scope"] == "whole model"
    front, blocks = energy["scopes"][:2]
    assert energy["energy_uj"] == pytest.approx(front["energy_uj"] + blocks["energy_uj"])
    assert energy["scopes"][2]["energy_uj_per_output_token"] > 0


# ---- the recipes: energy.json per scope, read by RESULTS.md and the model cards ----------------

def test_decoding_options_follow_the_decode_stage(tmp_path):
    from spikespeech.recipe.energy import decoding_options

    assert decoding_options(None) == {"decoding_mode": "attention"}  # asr_inference's default
    conf = tmp_path / "decode.yaml"
    conf.write_text("beam_size: 4\nctc_weight: 0.3\nbatch_size: 1\n")
    assert decoding_options(conf, "--decoding_mode attention_rescoring --beam_size 2 --ngpu 0") == {
        "decoding_mode": "attention_rescoring", "beam_size": 2, "ctc_weight": 0.3}


def test_recipe_energy_stage_writes_each_scope(exp_dir, tmp_path, capsys):
    from _helpers import shared_data

    from spikespeech.recipe.energy import main as energy_main

    data = tmp_path / "test"
    data.mkdir()
    clips = [shared_data("fsdd") / "recordings" / f"{d}_george_0.wav" for d in (1, 2)]
    (data / "wav.scp").write_text("".join(f"u{i} {c}\n" for i, c in enumerate(clips)))
    out = tmp_path / "energy.json"
    assert energy_main(["--asr_config", str(exp_dir / "config.yaml"), "--model_file",
                        str(exp_dir / "model.pth"), "--data_dir", str(data), "--out", str(out),
                        "--inference_args", "--decoding_mode attention_rescoring --beam_size 2"]) == 0
    energy = json.loads(out.read_text())
    assert energy["utterances"] == 2 and energy["decoding_mode"] == "attention_rescoring"
    assert energy["beam_size"] == 2 and _ratios_have_scopes(energy)
    # the top level is still the encoder (front-end + blocks), and says so
    assert energy["scope"] == "encoder" and energy["parts"] == ["front-end", "encoder blocks"]
    scopes = {s["scope"]: s for s in energy["scopes"]}
    assert energy["energy_uj_per_utt"] == pytest.approx(
        scopes["front-end"]["energy_uj_per_utt"] + scopes["encoder blocks"]["energy_uj_per_utt"])
    assert scopes["decoder"]["energy_uj_per_utt"] > 0
    assert energy["whole_model"]["energy_uj_per_utt"] == pytest.approx(
        sum(s["energy_uj_per_utt"] for s in scopes.values()))
    assert "encoder blocks:" in capsys.readouterr().out


def test_results_and_model_cards_name_the_scope(tmp_path):
    from spikespeech.recipe.results import Row, energy_scope_table, read_energy

    (tmp_path / "energy.json").write_text(json.dumps({
        "scope": "encoder", "energy_uj_per_utt": 2.0, "ann_energy_uj_per_utt": 4.0, "ann_to_snn_ratio": 2.0,
        "scopes": [{"scope": "decoder", "energy_uj_per_utt": 3.0, "ann_energy_uj_per_utt": 3.0,
                    "ann_to_snn_ratio": 1.0, "firing_rate": None, "energy_uj_per_output_token": 0.5}],
        "whole_model": {"scope": "whole model", "energy_uj_per_utt": 5.0, "ann_energy_uj_per_utt": 7.0,
                        "ann_to_snn_ratio": 1.4, "firing_rate": 0.1}}))
    energy = read_energy(tmp_path)
    assert energy["scope"] == "encoder" and energy["ratio"] == 2.0
    table = energy_scope_table([Row("m", tmp_path, "decode", "test", {}, {}, energy)])
    assert "| m | decode | decoder | - | 3 µJ | 3 µJ | 1.00 | 500 nJ |" in table
    assert "| m | decode | whole model | 0.100 | 5 µJ | 7 µJ | 1.40 | - |" in table
    older = tmp_path / "old"
    older.mkdir()
    (older / "energy.json").write_text(json.dumps({"energy_uj_per_utt": 2.0}))
    assert read_energy(older)["scopes"] == [] and energy_scope_table([Row("m", older, "d", "t", {}, {},
                                                                         read_energy(older))]) == ""
