"""train_snapshot: an ESPnet experiment's resume state saved and restored whole, checked by
SHA-256, never over an experiment that has its own checkpoint."""

from __future__ import annotations

import datetime
import json

import pytest
import torch

from spikespeech.recipe.train_snapshot import MANIFEST, SnapshotError, main, restore, save


def _experiment(root, epochs=(1, 2, 3), stats=None):
    """An exp dir as ESPnet leaves it after the last of ``epochs``: checkpoint, kept epoch files."""
    exp = root / "exp" / "tts_x"
    exp.mkdir(parents=True)
    models = {e: {"w": torch.full((3,), float(e))} for e in epochs}
    reporter = {"epoch": max(epochs), "stats": {
        e: {"train": {"time": datetime.timedelta(seconds=60)}} for e in epochs}}
    torch.save({"model": models[max(epochs)], "reporter": reporter, "optimizers": [{"step": 9}],
                "schedulers": [None], "scaler": None}, exp / "checkpoint.pth")
    for e in epochs:
        torch.save(models[e], exp / f"{e}epoch.pth")
    (exp / "latest.pth").symlink_to(f"{max(epochs)}epoch.pth")
    conf = "tts: spikevoice\n"
    if stats is not None:
        conf += f"normalize: global_mvn\nnormalize_conf:\n  stats_file: {stats}\n"
    (exp / "config.yaml").write_text(conf)
    return exp


def test_round_trip_gives_espnet_its_resume_state(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "feats_stats.npz").write_bytes(b"stats")
    exp = _experiment(tmp_path, stats="feats_stats.npz")
    manifest = save(exp, tmp_path / "snap")
    assert manifest["epoch"] == 3
    # the last epoch's file is the checkpoint's model: not stored twice
    assert sorted(manifest["files"]) == ["1epoch.pth", "2epoch.pth", "checkpoint.pth", "config.yaml",
                                         "stats0_feats_stats.npz"]
    assert manifest["stats"] == {"feats_stats.npz": "stats0_feats_stats.npz"}

    fresh = tmp_path / "other" / "tts_x"
    restore(tmp_path / "snap", fresh)
    for name in ("checkpoint.pth", "1epoch.pth", "2epoch.pth", "config.yaml"):
        assert (fresh / name).read_bytes() == (exp / name).read_bytes()
    assert torch.equal(torch.load(fresh / "3epoch.pth")["w"], torch.full((3,), 3.0))
    assert (fresh / "latest.pth").resolve() == (fresh / "3epoch.pth").resolve()
    assert not (fresh / "stats0_feats_stats.npz").exists()  # statistics go where the config names them


def test_saving_again_replaces_the_earlier_snapshot(tmp_path):
    save(_experiment(tmp_path, epochs=(1, 2)), tmp_path / "snap")
    exp = tmp_path / "exp" / "tts_x"
    (exp / "1epoch.pth").unlink()  # ESPnet dropped it from the n best
    torch.save({"model": {"w": torch.zeros(3)}, "reporter": {"epoch": 3, "stats": {}}},
               exp / "checkpoint.pth")
    torch.save({"w": torch.zeros(3)}, exp / "3epoch.pth")
    manifest = save(exp, tmp_path / "snap")
    assert manifest["epoch"] == 3
    assert sorted(p.name for p in (tmp_path / "snap").iterdir()) == [
        "2epoch.pth", "checkpoint.pth", "config.yaml", MANIFEST]


def test_never_overwrites_an_experiment_or_a_foreign_dir(tmp_path):
    exp = _experiment(tmp_path)
    save(exp, tmp_path / "snap")
    before = (exp / "checkpoint.pth").read_bytes()
    with pytest.raises(SnapshotError, match="already holds a checkpoint"):
        restore(tmp_path / "snap", exp)
    assert (exp / "checkpoint.pth").read_bytes() == before
    (tmp_path / "notes").mkdir()
    with pytest.raises(SnapshotError, match="not a snapshot; not overwritten"):
        save(exp, tmp_path / "notes")


def test_a_damaged_snapshot_restores_nothing(tmp_path):
    save(_experiment(tmp_path), tmp_path / "snap")
    with open(tmp_path / "snap" / "2epoch.pth", "r+b") as f:  # a truncated copy
        f.truncate(10)
    fresh = tmp_path / "fresh"
    with pytest.raises(SnapshotError, match="2epoch.pth: missing or not the file saved"):
        restore(tmp_path / "snap", fresh)
    assert not fresh.exists()


def test_other_normalisation_statistics_are_refused_unless_replaced(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    stats = tmp_path / "feats_stats.npz"
    stats.write_bytes(b"stats of the first data")
    save(_experiment(tmp_path, stats="feats_stats.npz"), tmp_path / "snap")
    stats.write_bytes(b"stats of other data")
    with pytest.raises(SnapshotError, match="feats_stats.npz: not the normalisation statistics"):
        restore(tmp_path / "snap", tmp_path / "fresh")
    assert not (tmp_path / "fresh").exists() and stats.read_bytes() == b"stats of other data"
    written = restore(tmp_path / "snap", tmp_path / "fresh", replace_stats=True)["stats_written"]
    assert written == {"feats_stats.npz": "replaced"} and stats.read_bytes() == b"stats of the first data"
    stats.unlink()  # not computed yet here: the training's are written
    assert restore(tmp_path / "snap", tmp_path / "again")["stats_written"] == {"feats_stats.npz": "missing"}
    assert stats.read_bytes() == b"stats of the first data"


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["restore", str(tmp_path / "nothing"), str(tmp_path / "exp")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"train_snapshot: error: {tmp_path / 'nothing'}: not a snapshot (no readable {MANIFEST})"
    assert main(["save", str(tmp_path / "exp"), str(tmp_path / "snap")]) == 2
    assert "checkpoint.pth: not found" in capsys.readouterr().err
    exp = _experiment(tmp_path)
    assert main(["save", str(exp), str(tmp_path / "snap")]) == 0
    assert json.loads((tmp_path / "snap" / MANIFEST).read_text())["epoch"] == 3


def test_a_restore_cut_short_leaves_no_checkpoint_and_can_run_again(tmp_path, monkeypatch):
    save(_experiment(tmp_path), tmp_path / "snap")
    fresh = tmp_path / "fresh"

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(torch, "save", disk_full)  # writing back the last epoch's weights fails
        with pytest.raises(OSError):
            restore(tmp_path / "snap", fresh)
    assert not (fresh / "checkpoint.pth").exists()  # ESPnet would not resume a partial state
    assert restore(tmp_path / "snap", fresh)["epoch"] == 3
    assert (fresh / "checkpoint.pth").is_file() and (fresh / "3epoch.pth").is_file()


def test_a_checkpoint_without_weights_is_refused_before_anything_is_written(tmp_path, capsys):
    """A hand-built snapshot whose hashes match but whose checkpoint lacks the model's weights."""
    from spikespeech.checksum import file_sha256

    snap = tmp_path / "snap"
    save(_experiment(tmp_path), snap)
    torch.save({"reporter": {"epoch": 3}}, snap / "checkpoint.pth")
    manifest = json.loads((snap / MANIFEST).read_text())
    manifest["files"]["checkpoint.pth"] = file_sha256(snap / "checkpoint.pth")
    (snap / MANIFEST).write_text(json.dumps(manifest))
    fresh = tmp_path / "fresh"
    assert main(["restore", str(snap), str(fresh)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"train_snapshot: error: {snap / 'checkpoint.pth'}: not a readable ESPnet "
                          "checkpoint (no 'model'") and "\n" not in err
    assert not fresh.exists()
