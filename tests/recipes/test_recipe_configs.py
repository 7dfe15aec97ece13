"""Every ASR recipe config (egs/*/asr1/conf/train_asr_*.yaml) builds through ESPnet's ASR task, and
those small enough for this CPU train a step: a config that no longer builds fails here, not
an hour into a recipe."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

pytest.importorskip("espnet2")

from espnet2.tasks.asr import ASRTask  # noqa: E402  (ours registered: conftest.py)

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted(ROOT.glob("egs/*/asr1/conf/train_asr_*.yaml"))
TRAIN_A_STEP_BELOW = 5_000_000  # parameters: the CPU-sized recipes (FSDD, yesno, mini AN4, Kathleen+FSDD)


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: f"{p.parts[-4]}/{p.name}")
def test_recipe_config_builds_and_trains_a_step(config, tmp_path):
    tokens = tmp_path / "tokens.txt"
    tokens.write_text("\n".join(["<blank>", "<unk>", *"abcdefgh", "<sos/eos>"]) + "\n")
    args = ASRTask.get_parser().parse_args(["--config", str(config), "--token_list", str(tokens),
                                            "--normalize", "none"])
    torch.manual_seed(0)
    model = ASRTask.build_model(args)
    if sum(p.numel() for p in model.parameters()) >= TRAIN_A_STEP_BELOW:
        return  # the LibriSpeech and AISHELL-1 sized configs: building is the check
    speech, lengths = torch.randn(2, 16000), torch.tensor([16000, 12000])
    loss, _, _ = model(speech, lengths, torch.tensor([[2, 3, 4], [5, 6, -1]]), torch.tensor([3, 2]))
    loss.backward()
    assert torch.isfinite(loss)
