"""Carry an ESPnet training to another machine: save what its ``--resume`` needs, restore it there.

    python -m spikespeech.recipe.train_snapshot save exp/tts_x snapshots/tts_x
    python -m spikespeech.recipe.train_snapshot restore snapshots/tts_x exp/tts_x

A recipe's stage 6 resumes from ``exp/<tag>/checkpoint.pth`` (model, optimizer, scheduler and
the reporter's history), and ESPnet seeds each epoch from ``seed + epoch``, so a run resumed at
an epoch boundary goes on as if it had never stopped. At the end ESPnet averages the n best
epochs' ``{N}epoch.pth``, so those files must travel too. A snapshot holds ``checkpoint.pth``,
every ``{N}epoch.pth`` the experiment still keeps (ESPnet deletes the others) except the last
one, which is the checkpoint's model and is written back on restore, ``config.yaml``,
the feature-normalisation statistics the training used (a resumed run must see the same ones),
and ``snapshot.json``: the epoch and each file's SHA-256, checked on restore.

Restore after the recipe's statistics stage (``./run.sh --stop_stage 5``), so that the new
statistics are compared with the training's, then run stage 6. Restore refuses an experiment
dir that already holds a checkpoint, and statistics that differ (``--replace_stats`` puts the
training's in place: the data changed, e.g. a teacher rerun on another CPU).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import torch
import yaml

from ..atomic import atomic_write
from ..checksum import file_sha256

MANIFEST = "snapshot.json"
CHECKPOINT = "checkpoint.pth"
STATS_KEYS = ("normalize_conf", "pitch_normalize_conf", "energy_normalize_conf")


class SnapshotError(ValueError):
    """A snapshot or an experiment dir that cannot be saved or restored; the message says why."""


def checkpoint_part(path: Path, key: str):
    """``key`` (``"model"``, ``"reporter"``, ...) of the ESPnet ``checkpoint.pth`` at ``path``."""
    try:
        # weights_only=False as ESPnet's own --resume: the reporter holds timedeltas
        return torch.load(path, map_location="cpu", weights_only=False)[key]
    except Exception as exc:
        raise SnapshotError(f"{path}: not a readable ESPnet checkpoint (no {key!r}: "
                            f"{type(exc).__name__})") from None


def checkpoint_epoch(path: Path) -> int:
    """The last finished epoch recorded by ESPnet's reporter in ``checkpoint.pth``."""
    try:
        return int(checkpoint_part(path, "reporter")["epoch"])
    except (KeyError, TypeError, ValueError) as exc:
        raise SnapshotError(f"{path}: not a readable ESPnet checkpoint "
                            f"(no epoch: {type(exc).__name__})") from None


def stats_files(config: Path) -> list[str]:
    """The normalisation statistics files named by an ESPnet ``config.yaml`` (paths as written)."""
    conf = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    return [conf[k]["stats_file"] for k in STATS_KEYS
            if isinstance(conf.get(k), dict) and conf[k].get("stats_file")]


def save(exp: Path, dest: Path) -> dict:
    """Copy ``exp``'s resume state into ``dest`` (replaced whole if it is an earlier snapshot)."""
    checkpoint, config = exp / CHECKPOINT, exp / "config.yaml"
    for path in (checkpoint, config):
        if not path.is_file():
            raise SnapshotError(f"{path}: not found (is {exp} a training experiment?)")
    if dest.exists() and not (dest / MANIFEST).is_file():
        raise SnapshotError(f"{dest}: exists and is not a snapshot; not overwritten")
    epoch = checkpoint_epoch(checkpoint)
    kept = sorted((p for p in exp.glob("*epoch.pth") if p.name.removesuffix("epoch.pth").isdigit()
                   and int(p.name.removesuffix("epoch.pth")) != epoch), key=lambda p: p.name)
    dest.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        stage.chmod(0o755)  # mkdtemp makes 0700 dirs; a snapshot is read by others
        copies = {path.name: path for path in (checkpoint, config, *kept)}
        stats = {s: f"stats{i}_{Path(s).name}"
                 for i, s in enumerate(stats_files(config)) if Path(s).is_file()}
        copies.update({name: Path(s) for s, name in stats.items()})
        for name, path in copies.items():
            shutil.copyfile(path, stage / name)
        manifest = {"epoch": epoch, "experiment": exp.name,
                    "files": {name: file_sha256(stage / name) for name in copies}, "stats": stats}
        if checkpoint_epoch(stage / CHECKPOINT) != epoch:  # ESPnet rewrote it while we copied
            raise SnapshotError(f"{checkpoint}: changed while it was copied; save again after the epoch ends")
        (stage / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        old = dest.with_name(f".{dest.name}.old")
        if dest.exists():
            os.replace(dest, old)
        os.replace(stage, dest)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return manifest


def restore(snapshot: Path, exp: Path, replace_stats: bool = False) -> dict:
    """Check ``snapshot`` whole, then write its files into ``exp`` (which must hold no checkpoint)
    and the training's statistics where its config names them, if missing there. Statistics that
    differ there (the data differs) refuse the restore, unless ``replace_stats``."""
    try:
        manifest = json.loads((snapshot / MANIFEST).read_text(encoding="utf-8"))
        epoch, files, stats = int(manifest["epoch"]), dict(manifest["files"]), dict(manifest["stats"])
    except (OSError, ValueError, KeyError, TypeError):
        raise SnapshotError(f"{snapshot}: not a snapshot (no readable {MANIFEST})") from None
    if (exp / CHECKPOINT).exists():
        held = checkpoint_epoch(exp / CHECKPOINT)
        raise SnapshotError(f"{exp}: already holds a checkpoint (epoch {held}); "
                            f"move it aside to restore the snapshot's epoch {epoch}")
    for name, digest in files.items():
        if not (snapshot / name).is_file() or file_sha256(snapshot / name) != digest:
            raise SnapshotError(f"{snapshot / name}: missing or not the file saved (SHA-256 differs)")
    model = checkpoint_part(snapshot / CHECKPOINT, "model")  # before anything is written
    stats_to_write = {}
    for path, name in stats.items():
        if not Path(path).is_file():
            stats_to_write[path] = "missing"
        elif file_sha256(Path(path)) != files[name]:
            if not replace_stats:
                raise SnapshotError(f"{path}: not the normalisation statistics the training used (SHA-256 "
                                    "differs, so the data differs); not restored (--replace_stats: use the "
                                    "training's)")
            stats_to_write[path] = "replaced"
    exp.mkdir(parents=True, exist_ok=True)
    for path in stats_to_write:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda tmp, name=stats[path]: shutil.copyfile(snapshot / name, tmp))
    # the checkpoint last: a restore cut short leaves none, so it can simply be run again
    for name in sorted(set(files) - set(stats.values()) - {CHECKPOINT}):
        atomic_write(exp / name, lambda tmp, name=name: shutil.copyfile(snapshot / name, tmp))
    atomic_write(exp / f"{epoch}epoch.pth", lambda tmp: torch.save(model, tmp))
    latest = exp / "latest.pth"  # as ESPnet leaves it after an epoch
    latest.unlink(missing_ok=True)
    latest.symlink_to(f"{epoch}epoch.pth")
    atomic_write(exp / CHECKPOINT, lambda tmp: shutil.copyfile(snapshot / CHECKPOINT, tmp))
    return {**manifest, "stats_written": stats_to_write}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m spikespeech.recipe.train_snapshot",
                                description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("save", help="EXP -> SNAPSHOT dir")
    s.add_argument("exp", type=Path)
    s.add_argument("snapshot", type=Path)
    r = sub.add_parser("restore", help="SNAPSHOT dir -> EXP (holding no checkpoint)")
    r.add_argument("snapshot", type=Path)
    r.add_argument("exp", type=Path)
    r.add_argument("--replace_stats", action="store_true",
                   help="where the normalisation statistics differ from the training's, "
                        "put the training's in place")
    args = p.parse_args(argv)
    try:
        if args.command == "save":
            manifest = save(args.exp, args.snapshot)
            print(f"train_snapshot: {args.exp} at epoch {manifest['epoch']} -> {args.snapshot} "
                  f"({len(manifest['files'])} files)")
        else:
            manifest = restore(args.snapshot, args.exp, replace_stats=args.replace_stats)
            for path, why in manifest["stats_written"].items():
                print(f"train_snapshot: warning: {path}: the training's statistics written ({why} here)",
                      file=sys.stderr)
            print(f"train_snapshot: {args.snapshot} -> {args.exp}: resumes after epoch {manifest['epoch']}")
    except (SnapshotError, OSError) as exc:
        print(f"train_snapshot: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
