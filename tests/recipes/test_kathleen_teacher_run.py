"""egs/kathleen_teacher/tts1/run.sh chains its two phases through the stage template: the
distilled student (all stages), then its fine-tuning on Kathleen alone (stages 6 on).

The template (recipes/tts.sh, tested on miniature corpora in test_tts_recipes.py, where
--train_speakers and --pretrained_model are run for real) is replaced here by a script that
records each call's arguments, so only run.sh's own logic is under test.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
RECIPE = REPO / "egs" / "kathleen_teacher" / "tts1"
STUDENT = "conf/train_spikevoice_imls_small.yaml"
FINETUNE = "conf/finetune_spikevoice_imls_small_kathleen.yaml"


@pytest.fixture
def run(tmp_path):
    """``run(*args)`` → (exit status, stderr, one list of arguments per template call)."""
    recipe = tmp_path / "egs" / "kathleen_teacher" / "tts1"
    recipe.mkdir(parents=True)
    shutil.copy(RECIPE / "run.sh", recipe / "run.sh")
    template = tmp_path / "recipes" / "tts.sh"
    template.parent.mkdir()
    calls = tmp_path / "calls"
    template.write_text(f'#!/usr/bin/env bash\nprintf "%s\\n" "$@" >> {calls}\necho "--" >> {calls}\n')
    template.chmod(0o755)

    def _run(*args: str):
        out = subprocess.run(["bash", str(recipe / "run.sh"), *args], capture_output=True, text=True)
        text = calls.read_text() if calls.exists() else ""
        return out.returncode, out.stderr, [c.strip("\n").split("\n") for c in text.split("--\n")[:-1]]
    return _run


def _option(call: list[str], name: str) -> str:
    """The value the template reads: its option parser keeps the last one given."""
    return call[len(call) - 1 - call[::-1].index(name) + 1]


def test_both_phases_by_default(run):
    status, _, calls = run()
    assert status == 0 and len(calls) == 2
    student, finetune = calls
    assert _option(student, "--tts_config") == STUDENT and _option(student, "--stage") == "1"
    assert "--train_speakers" not in student and "--pretrained_model" not in student
    assert _option(finetune, "--tts_config") == FINETUNE and _option(finetune, "--stage") == "6"
    assert _option(finetune, "--train_speakers") == "kathleen"
    assert _option(finetune, "--pretrained_model") == (
        "exp/tts_train_spikevoice_imls_small/valid.postnet_l1.ave.pth")
    assert _option(finetune, "--model_card") == "local/model_card_finetuned.md"
    for call in calls:  # the corpus options, the same in both phases
        assert _option(call, "--use_sid") == "true" and _option(call, "--fs") == "16000"


def test_stages_and_other_options_reach_both_phases(run):
    _, _, calls = run("--stage", "8", "--stop_stage", "9", "--inference_nj", "1")
    assert [(_option(c, "--stage"), _option(c, "--stop_stage")) for c in calls] == [("8", "9"), ("8", "9")]
    assert all(_option(c, "--inference_nj") == "1" for c in calls)


@pytest.mark.parametrize("args", [("--stop_stage", "5"), ("--finetune_config", "none")])
def test_phase_one_alone(run, args):
    status, _, calls = run(*args)
    assert status == 0 and len(calls) == 1 and _option(calls[0], "--tts_config") == STUDENT


def test_the_ann_twin_is_fine_tuned_from_its_own_weights(run):
    _, _, calls = run("--stage", "6", "--pretrain_config", "conf/train_fastspeech2_ann_small.yaml",
                      "--finetune_config", "conf/finetune_fastspeech2_ann_small_kathleen.yaml")
    assert _option(calls[1], "--pretrained_model") == (
        "exp/tts_train_fastspeech2_ann_small/valid.postnet_l1.ave.pth")
    assert _option(calls[1], "--card_opts") == "--related exp/tts_train_fastspeech2_ann_small"


def test_the_default_card_lists_the_ann_twin_once_the_twin_is_scored(run, tmp_path):
    twin = "exp/tts_finetune_fastspeech2_ann_small_kathleen"
    student = "--related exp/tts_train_spikevoice_imls_small"
    assert _option(run()[2][1], "--card_opts") == student  # twin not trained: the student alone
    score = tmp_path / "egs/kathleen_teacher/tts1" / twin / "decode_x/test/score/scores.json"
    score.parent.mkdir(parents=True)
    score.write_text("{}")
    assert _option(run()[2][-1], "--card_opts") == f"{student} --related {twin}"
    _, _, calls = run("--stage", "6", "--pretrain_config", "conf/train_fastspeech2_ann_small.yaml",
                      "--finetune_config", "conf/finetune_fastspeech2_ann_small_kathleen.yaml")
    assert _option(calls[-1], "--card_opts") == "--related exp/tts_train_fastspeech2_ann_small"  # not itself


def test_tts_config_is_refused_with_one_line(run):
    status, err, calls = run("--tts_config", STUDENT)
    assert status == 2 and calls == [] and len(err.splitlines()) == 1 and "--pretrain_config" in err


def test_fine_tuning_configs_differ_from_their_pretraining_only_in_optimisation():
    """Same model, features and selection as the configs they start from (run.sh pairs them)."""
    for pre, fine in ((STUDENT, FINETUNE), ("conf/train_fastspeech2_ann_small.yaml",
                                           "conf/finetune_fastspeech2_ann_small_kathleen.yaml")):
        a, b = (yaml.safe_load((RECIPE / f).read_text()) for f in (pre, fine))
        changed = {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
        assert changed == {"optim_conf", "scheduler", "scheduler_conf", "max_epoch"}, (fine, changed)
        assert b["optim_conf"]["lr"] < a["optim_conf"]["lr"] and b["scheduler"] is None


def test_each_ann_twin_config_is_its_spiking_config_with_spikes_off():
    """The reference row's claim (their headers say so): same model, data and budget, backbone ann."""
    for spiking, ann in ((STUDENT, "conf/train_fastspeech2_ann_small.yaml"),
                         (FINETUNE, "conf/finetune_fastspeech2_ann_small_kathleen.yaml")):
        a, b = (yaml.safe_load((RECIPE / f).read_text()) for f in (spiking, ann))
        assert a["tts_conf"]["backbone"] == "spiking" and b["tts_conf"]["backbone"] == "ann"
        b["tts_conf"]["backbone"] = "spiking"
        assert a == b, ann


def test_name_equals_value_options_are_read_as_tts_sh_reads_them(run):
    status, _, calls = run("--stop_stage=5")
    assert status == 0 and len(calls) == 1 and _option(calls[0], "--stop_stage") == "5"


def test_another_expdir_holds_the_student_the_fine_tuning_starts_from(run):
    _, _, calls = run("--stage", "6", "--expdir", "exp2")
    assert all(_option(c, "--expdir") == "exp2" for c in calls)
    assert _option(calls[1], "--pretrained_model") == (
        "exp2/tts_train_spikevoice_imls_small/valid.postnet_l1.ave.pth")


def test_tts_tag_is_refused_with_one_line(run):
    """One tag for both phases would train the fine-tuning in the student's dir."""
    status, err, calls = run("--tts_tag", "mine")
    assert status == 2 and calls == [] and len(err.splitlines()) == 1 and "--tts_tag" in err
