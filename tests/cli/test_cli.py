"""``spikespeech`` CLI: help, energy report, one-line errors with non-zero exit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from spikespeech.cli.main import main

CONF = Path(__file__).resolve().parents[2] / "spikespeech" / "conf" / "encoder"


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "energy" in capsys.readouterr().out


def test_console_script_runs_in_a_fresh_process():
    out = subprocess.run(
        [sys.executable, "-m", "spikespeech.cli.main", "--version"],
        capture_output=True, text=True, check=True,
    )
    assert out.stdout.startswith("spikespeech ")


@pytest.mark.parametrize("conf", sorted(CONF.glob("*.yaml")), ids=lambda p: p.stem)
def test_energy_report_for_every_shipped_config(conf, capsys):
    assert main(["energy", "--config", str(conf), "--frames", "16", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    total = data["total"]
    assert total["acs"] > 0 and total["ann_energy_pj"] > total["energy_pj"] > 0
    assert 0 < total["firing_rate"] < 1


def test_energy_table_and_override(capsys):
    conf = CONF / "iml_spikeformer_small.yaml"
    code = main(["energy", "--config", str(conf), "--frames", "8", "--set", "layers=1",
                 "--set", "attention.type=sdsa"])
    assert code == 0
    out = capsys.readouterr().out
    assert "layers.0.attn.kv_mul" in out and "layers.1." not in out
    assert "lower (E_MAC 4.6 pJ" in out


def test_encoder_report_says_what_it_measured(capsys):
    conf = CONF / "iml_spikeformer_small.yaml"
    assert main(["energy", "--config", str(conf), "--frames", "8", "--set", "layers=1"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert "scope: encoder blocks (spiking, pure encoder): no front-end, decoder or CTC head" in first
    assert "random weights, firing rate measured on random input: not a result" in first
    assert main(["energy", "--config", str(conf), "--frames", "8", "--set", "layers=1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total"]["scope"] == "encoder blocks (spiking, pure encoder)"
    assert data["caveat"].endswith("not a result")


def test_espnet_config_gives_the_whole_model_per_scope(capsys):
    pytest.importorskip("espnet2")
    conf = CONF.parent / "asr" / "tiny.yaml"
    assert main(["energy", "--config", str(conf), "--seconds", "1", "--tokens", "4", "--vocab", "20",
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert "random weights" in data["caveat"] and "4 tokens" in data["measured"]
    scopes = {s["scope"]: s for s in data["scopes"]}
    assert list(scopes) == ["front-end", "encoder blocks", "decoder", "CTC head"]
    assert scopes["front-end"]["acs"] == 0 and scopes["front-end"]["ann_to_snn_ratio"] == pytest.approx(1.0)
    blocks = scopes["encoder blocks"]
    assert blocks["ann_to_snn_ratio"] > 1 and 0 < blocks["firing_rate"] < 1
    decoder = scopes["decoder"]
    assert decoder["output_tokens"] == 4
    assert decoder["energy_uj_per_output_token"] == pytest.approx(decoder["energy_uj"] / 4)
    assert data["total"]["energy_pj"] / 1e6 == pytest.approx(sum(s["energy_uj"] for s in scopes.values()))


def test_ann_kind_reports_only_macs(capsys):
    conf = CONF / "iml_spikeformer_small.yaml"
    assert main(["energy", "--config", str(conf), "--frames", "8", "--kind", "ann", "--json"]) == 0
    total = json.loads(capsys.readouterr().out)["total"]
    assert total["acs"] == 0 and total["ann_to_snn_ratio"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--config", "missing.yaml"], "missing.yaml: config file not found"),
        (["--set", "attention.heads=7"], "not divisible by attention.heads 7"),
        (["--set", "neuron.type=izhikevich"], "neuron.type"),
        (["--set", "bogus=1"], "unknown key(s) bogus"),
        (["--set", "noequals"], "expected KEY=VALUE"),
        (["--config", str(CONF.parent / "asr" / "tiny.yaml"), "--kind", "ann"],
         "--kind ann: for an ESPnet config, give the ANN's own config"),
    ],
)
def test_energy_errors_are_one_line(args, needle, capsys, tmp_path):
    if "--config" not in args:
        args = ["--config", str(CONF / "iml_spikeformer_small.yaml"), *args]
    assert main(["energy", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and "\n" not in err and err.startswith("spikespeech energy: error:")


def test_invalid_yaml_file(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("encoder: [unclosed\n")
    assert main(["energy", "--config", str(bad)]) == 2
    assert "bad.yaml: invalid YAML" in capsys.readouterr().err
