"""Speed and accuracy of `spikespeech transcribe` as users run it, per decoding mode.

Each (model, mode) is one `spikespeech transcribe --format json` process over all inputs, so
the numbers are the command's own: decode time per input from its JSON (model loading
excluded), and the command's wall time (start-up included) for one FSDD file apart. Inputs,
built from the data beside the checkout (`../shared/data`):

- `fsdd30`: 30 s of FSDD official-test digits, 0.5 s pauses between them;
- `kathleen30`: 30 s of Kathleen's test prompts (the last 50), 0.5 s pauses;
- `long600`: 10 minutes, Kathleen test prompts and FSDD test digits in turn;
- accuracy: FSDD's official test split (takes 0-4, 300 clips) and Kathleen's 50 test prompts,
  one file per utterance, WER by jiwer.

    .venv/bin/python bench/asr_rtf.py [--model PACK] [--peer PACK] [--modes m1,m2] [--stream] [--json OUT]

`--peer` decodes a second pack the same way in the same run (e.g. the same-size ESPnet
transformer of egs/kathleen_fsdd/asr1/conf/train_asr_transformer.yaml once trained).
`--stream` adds, per model, the default mode decoded with `transcribe --stream` (audio fed as
if it arrived in real time): latency from the command's JSON beside speed and WER.
Bars (issue 15): RTF <= 0.1 on fsdd30, kathleen30 and long600 in the default mode; FSDD test
WER <= 3 %; one FSDD file <= 5 s wall (the median of 3 runs).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from spikespeech.audio import resample  # noqa: E402
from spikespeech.data.corpora.kathleen import find_root, kathleen_utterances  # noqa: E402
from spikespeech.data.fsdd import fsdd_utterances, take_index  # noqa: E402
from spikespeech.decoding_modes import DEFAULT_MODE, MODES  # noqa: E402
from spikespeech.models import default_model  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
RATE = 16000  # inputs are written at 16 kHz; the command resamples to the model's rate
PAUSE = np.zeros(RATE // 2, dtype=np.float32)
KATHLEEN_TEST = 50  # the recipes' test set: the last 50 prompts


def test_sets() -> dict[str, list]:
    """``{"fsdd": [...300 utterances], "kathleen": [...50]}`` (Utterance: utt_id, audio path, text)."""
    fsdd = [u for u in fsdd_utterances(SHARED / "fsdd") if take_index(u) <= 4]
    kathleen = kathleen_utterances(find_root(SHARED / "kathleen"), for_asr=True)[-KATHLEEN_TEST:]
    return {"fsdd": fsdd, "kathleen": kathleen}


def _read(path: str) -> np.ndarray:
    audio, rate = sf.read(path, dtype="float32")
    return resample(audio, rate, RATE) if rate != RATE else audio


def _joined(utterances: list, seconds: float) -> tuple[np.ndarray, str]:
    """Utterances in turn, paused, repeated while the next one still fits in ``seconds``;
    the words said."""
    parts, words, total, i = [], [], 0, 0
    while True:
        utt = utterances[i % len(utterances)]
        clip = _read(utt.audio)
        if parts and total + len(clip) + len(PAUSE) > seconds * RATE:
            return np.concatenate(parts), " ".join(words)
        parts += [clip, PAUSE]
        total += len(clip) + len(PAUSE)
        words.append(utt.text)
        i += 1


def write_inputs(work: Path, sets: dict[str, list]) -> dict[str, str]:
    """The long inputs as WAVs in ``work`` and the test sets as wav.scp; their reference texts."""
    refs = {}
    interleaved = [u for pair in zip(sets["kathleen"], sets["fsdd"], strict=False) for u in pair]
    for name, utts, seconds in (("fsdd30", sets["fsdd"], 30), ("kathleen30", sets["kathleen"], 30),
                                ("long600", interleaved, 600)):
        audio, refs[name] = _joined(utts, seconds)
        sf.write(work / f"{name}.wav", audio, RATE)
    for name, utts in sets.items():
        (work / f"{name}.scp").write_text("".join(f"{u.utt_id} {u.audio}\n" for u in utts))
        refs.update({u.utt_id: u.text for u in utts})
    return refs


def transcribe(model: Path, mode: str, inputs: list[str],
               extra: tuple[str, ...] = ()) -> tuple[dict[str, dict], float]:
    """The command's JSON records by id, and its wall time."""
    command = [sys.executable, "-m", "spikespeech.cli.main", "transcribe", "--model", str(model),
               "--mode", mode, "--format", "json", "--no-progress", *extra, *inputs]
    start = time.perf_counter()
    out = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    if out.returncode != 0:
        sys.exit(f"error: {' '.join(command)} failed:\n{out.stderr[-2000:]}")
    records = [json.loads(line) for line in out.stdout.splitlines()]
    return {r["id"]: r for r in records}, wall


def wer(records: dict[str, dict], refs: dict[str, str], ids: list[str]) -> float:
    import jiwer

    return jiwer.wer([refs[i] for i in ids], [records[i]["text"] or "<empty>" for i in ids])


def measure(model: Path, mode: str, work: Path, sets: dict, refs: dict, stream: bool = False) -> dict:
    inputs = [str(work / f) for f in ("fsdd30.wav", "kathleen30.wav", "long600.wav",
                                     "fsdd.scp", "kathleen.scp")]
    extra = ("--stream",) if stream else ()
    records, _ = transcribe(model, mode, inputs, extra)
    row = {"mode": mode + (" --stream" if stream else "")}
    for name in ("fsdd30", "kathleen30", "long600"):
        row[f"{name}_rtf"] = records[name]["rtf"]
        row[f"{name}_wer"] = wer(records, refs, [name])
        if stream:
            row[f"{name}_latency"] = {k: v for k, v in records[name]["stream"].items() if k != "partials"}
    for name, utts in sets.items():
        ids = [u.utt_id for u in utts]
        row[f"{name}_test_wer"] = wer(records, refs, ids)
        row[f"{name}_test_decode_s_per_file"] = sum(records[i]["decode_s"] for i in ids) / len(ids)
    walls = [transcribe(model, mode, [sets["fsdd"][0].audio], extra)[1] for _ in range(3)]
    row["one_file_wall_s"] = float(np.median(walls))  # start to exit, the median of 3 runs
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", type=Path, default=None, help="pack (default: the shipped ASR model)")
    p.add_argument("--peer", type=Path, default=None, help="a second pack decoded the same way")
    p.add_argument("--modes", default=",".join(MODES), help="comma-separated modes (default: all)")
    p.add_argument("--stream", action="store_true",
                   help="also decode each model in the default mode with --stream (latency table)")
    p.add_argument("--json", type=Path, default=None, help="also write the rows to this file")
    args = p.parse_args()
    modes = args.modes.split(",")
    unknown = sorted(set(modes) - set(MODES))
    if unknown:
        p.error(f"--modes: unknown {', '.join(unknown)}; choose from {', '.join(MODES)}")
    models = {"ours": args.model or default_model("asr")}
    if args.peer:
        models["peer"] = args.peer
    sets = test_sets()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        refs = write_inputs(work, sets)
        for name, model in models.items():
            runs = [(mode, False) for mode in modes] + ([(DEFAULT_MODE, True)] if args.stream else [])
            for mode, stream in runs:
                rows.append({"model": name, "pack": str(model),
                             **measure(model, mode, work, sets, refs, stream)})
                print(json.dumps(rows[-1]), file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    print("| model | mode | RTF fsdd30 | RTF kathleen30 | RTF 10 min | WER 10 min | FSDD test WER "
          "| Kathleen test WER | decode s/file (Kathleen) | one FSDD file, wall s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        default = " (default)" if r["mode"] == DEFAULT_MODE else ""
        print(f"| {r['model']} | {r['mode']}{default} | {r['fsdd30_rtf']:.3f} | {r['kathleen30_rtf']:.3f} "
              f"| {r['long600_rtf']:.3f} | {100 * r['long600_wer']:.1f} % | {100 * r['fsdd_test_wer']:.1f} % "
              f"| {100 * r['kathleen_test_wer']:.1f} % | {r['kathleen_test_decode_s_per_file']:.2f} "
              f"| {r['one_file_wall_s']:.1f} |")
    streamed = [r for r in rows if "long600_latency" in r]
    if streamed:
        print("\n| model | streamed input | chunk s | look-back s | mean latency s | max latency s "
              "| final latency s | WER |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        for r in streamed:
            for name in ("fsdd30", "kathleen30", "long600"):
                lat = r[f"{name}_latency"]
                print(f"| {r['model']} | {name} | {lat['chunk_s']:.2f} | {lat['lookback_s']:.1f} "
                      f"| {lat['mean_latency_s']:.3f} | {lat['max_latency_s']:.3f} "
                      f"| {lat['final_latency_s']:.3f} | {100 * r[f'{name}_wer']:.1f} % |")


if __name__ == "__main__":
    main()
