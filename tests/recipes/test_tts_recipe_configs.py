"""Every TTS recipe config (egs/*/tts1/conf/**/*.yaml) builds through ESPnet's TTS task, and those
small enough for this CPU train a step: a config that no longer builds fails here, not hours
into a recipe (the distilled voice's recipe trains for a day)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

pytest.importorskip("espnet2")

from _tiny_packs import tts_token_list  # noqa: E402
from espnet2.tasks.tts import TTSTask  # noqa: E402  (ours registered: conftest.py)

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted(ROOT.glob("egs/*/tts1/conf/**/*.yaml"))
TRAIN_A_STEP_BELOW = 5_000_000  # parameters: the small configs recipes train on this CPU


def _args(config: Path, tmp_path: Path, sids: bool):
    """The config as tts.sh passes it, with our token list, no feature statistics yet, and
    ``spks`` where the recipe trains with speaker ids (``--use_sid true`` sets it the same way)."""
    conf = yaml.safe_load(config.read_text(encoding="utf-8"))
    conf.update(token_list=tts_token_list(), token_type="phn", g2p="none", cleaner="none",
                normalize=None, pitch_normalize=None, energy_normalize=None)
    if sids:
        conf["tts_conf"]["spks"] = 3  # <unk> + two speakers
    path = tmp_path / "train.yaml"
    path.write_text(yaml.safe_dump(conf, allow_unicode=True), encoding="utf-8")
    return TTSTask.get_parser().parse_args(["--config", str(path), "--output_dir", str(tmp_path / "exp")])


def test_the_tts_configs_are_found():
    names = {str(p.relative_to(ROOT / "egs")) for p in CONFIGS}
    assert {"kathleen_teacher/tts1/conf/train_spikevoice_imls_small.yaml",
            "kathleen_teacher/tts1/conf/train_fastspeech2_ann_small.yaml",
            "kathleen/tts1/conf/compare/spikevoice_sd_small.yaml"} <= names


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: str(p.relative_to(ROOT / "egs")))
def test_tts_recipe_config_builds_and_trains_a_step(config, tmp_path):
    recipe = next(p for p in config.parents if p.name == "tts1")
    sids = "--use_sid true" in (recipe / "run.sh").read_text(encoding="utf-8")
    args = _args(config, tmp_path, sids)
    fs = args.feats_extract_conf["fs"]
    torch.manual_seed(0)
    model = TTSTask.build_model(args)
    if sum(p.numel() for p in model.parameters()) >= TRAIN_A_STEP_BELOW:
        return  # the published-size configs: building is the check
    tokens = torch.randint(2, len(tts_token_list()) - 1, (2, 12))
    speech = torch.randn(2, fs) * 0.1
    batch = {"text": tokens, "text_lengths": torch.tensor([12, 9]),
             "speech": speech, "speech_lengths": torch.tensor([fs, fs * 3 // 4])}
    if sids:
        batch["sids"] = torch.tensor([[1], [2]])
    loss, stats, _ = model(**batch)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(stats["mel_l1"])
