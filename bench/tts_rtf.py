"""TTS real-time factor: the `small` SpikeVoice vs its same-size ANN twin, Griffin-Lim included.

Both acoustic models are ``spikespeech.tts.SpikeVoice`` built from ``conf/tts/small.yaml``
(spiking: binary LIF, T=4, STSA) and from the same YAML with ``backbone: ann`` (the
FastSpeech2-style baseline: same code and shapes, spikes off), each after the same
``torch.manual_seed``, in their inference form (``fold_for_inference``), under
``torch.no_grad()``, at batch 1. Every model's mel goes through the same
``GriffinLimVocoder(MelSpec(), n_iter=32)`` (LJSpeech 22.05 kHz, hop 256).

Input: real sentences, the normalized transcripts of ``../shared/data/ljspeech_subset``
(default) or Kathleen, phonemized with ``Frontend("en")`` (untimed, done once up front;
its cost is reported separately). The models are untrained, so their duration predictors
would give meaningless lengths: each utterance's durations are **forced** to the real
clip's frame count (``MelSpec.num_frames`` of the wav length at 22.05 kHz, hop 256)
spread evenly over its phoneme tokens (token i gets ``floor((i+1)F/L) - floor(iF/L)``
frames), so the synthesised audio is as long as the recording. The models' cost depends
on the token and frame counts only, not on how the frames are split among tokens.

Timing: ``--repeats`` rounds; in each round every utterance is synthesised by every model
(order rotating between rounds), acoustic model and vocoder timed separately with
``time.perf_counter``. Each utterance counts with each stage's fastest round (as timeit
advises: slower rounds measure other load on the machine). RTF = summed seconds / summed
synthesised audio seconds. Nothing is asserted on timing.

    .venv/bin/python bench/tts_rtf.py [--utts 10] [--repeats 5] [--threads 1]
                                      [--griffin-lim-iters 32] [--paper] [--json]

Target: spiking `small` total RTF (acoustic + Griffin-Lim) <= 0.1 on this CPU.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import time
from pathlib import Path

import torch

from spikespeech.config import from_dict, load_yaml
from spikespeech.layers import fold_for_inference
from spikespeech.text import Frontend
from spikespeech.tts import SpikeVoice, SpikeVoiceConfig
from spikespeech.vocoder import GriffinLimVocoder, MelSpec

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
CORPORA = {  # name: (metadata.csv, audio folder, audio extension)
    "ljspeech": (DATA / "ljspeech_subset" / "metadata.csv", DATA / "ljspeech_subset" / "wavs", "wav"),
    "kathleen": (DATA / "kathleen" / "metadata.csv", DATA / "kathleen" / "flac", "flac"),
}
CONF = ROOT / "spikespeech" / "conf" / "tts"
# name: (YAML, backbone override or None, label)
MODELS = {
    "spiking": (CONF / "small.yaml", None, "small SpikeVoice (LIF T=4, STSA)"),
    "ann": (CONF / "small.yaml", "ann", "small ANN (FastSpeech2-style)"),
}
PAPER_MODELS = {
    "spiking_paper": (CONF / "spikevoice.yaml", None, "full-size SpikeVoice (LIF T=4, STSA)"),
    "ann_paper": (CONF / "fastspeech2_ann.yaml", None, "full-size ANN (fastspeech2_ann.yaml)"),
}
SPECIALS = ("<blank>", "<unk>", "<sos/eos>")  # ESPnet token list: <blank>, <unk>, ..., <sos/eos>
TARGET_RTF = 0.1


def log(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


# ---- data ----------------------------------------------------------------------------------
def even_durations(tokens: int, frames: int) -> torch.Tensor:
    """``frames`` spread over ``tokens``: token i gets floor((i+1)F/L) - floor(iF/L) frames."""
    edges = torch.arange(tokens + 1, dtype=torch.long) * frames // tokens
    return edges[1:] - edges[:-1]


def load_utterances(corpus: str, n: int, frontend: Frontend, vocab: dict[str, int],
                    mel_spec: MelSpec) -> list[dict]:
    import soundfile as sf

    metadata, audio_dir, ext = CORPORA[corpus]
    if not metadata.is_file():
        sys.exit(f"error: {metadata}: not found")
    with metadata.open(newline="", encoding="utf-8") as f:
        rows = [r for r in csv.reader(f, delimiter="|", quoting=csv.QUOTE_NONE) if r]
    utts = []
    for row in rows[:n]:
        uid, text = row[0], row[-1]  # id|raw text|normalized text
        info = sf.info(str(audio_dir / f"{uid}.{ext}"))
        # the models make 22.05 kHz mels: a 16 kHz clip's length is counted at that rate
        samples = round(info.frames * mel_spec.fs / info.samplerate)
        frames = mel_spec.num_frames(samples)
        phones = frontend(text)
        ids = torch.tensor([vocab.get(p, vocab["<unk>"]) for p in phones], dtype=torch.long)
        utts.append({"id": uid, "text": text, "tokens": ids, "frames": frames,
                     "durations": even_durations(len(ids), frames),
                     "clip_seconds": info.frames / info.samplerate,
                     "audio_seconds": frames * mel_spec.hop_length / mel_spec.fs})
    if not utts:
        sys.exit(f"error: {metadata}: no utterances")
    return utts


# ---- models --------------------------------------------------------------------------------
def build(path: Path, backbone: str | None, vocab_size: int, n_mels: int,
          seed: int) -> tuple[SpikeVoice, dict]:
    data = load_yaml(path)
    data = data.get("tts", data)
    if backbone is not None:
        data = {**data, "backbone": backbone}
    cfg = from_dict(SpikeVoiceConfig, data, where=str(path))
    torch.manual_seed(seed)
    model = SpikeVoice(vocab_size, n_mels, cfg).eval()
    params = {"synthesiser": model.num_parameters(exclude_aligner=True),
              "with_aligner": model.num_parameters()}
    model = fold_for_inference(model, inplace=True)
    params["inference_form"] = model.num_parameters(exclude_aligner=True)
    return model, params


@torch.no_grad()
def synthesise(model: SpikeVoice, vocoder: GriffinLimVocoder, utt: dict) -> tuple[float, float, int]:
    """(acoustic seconds, vocoder seconds, samples) for one utterance at batch 1."""
    t0 = time.perf_counter()
    mel = model.infer(utt["tokens"], durations=utt["durations"])["mel"]
    t1 = time.perf_counter()
    wav = vocoder(mel)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, int(wav.shape[-1])


# ---- machine load (as bench/train_step.py) -------------------------------------------------
def cpu_busy_snapshot() -> tuple[float, float] | None:
    """(machine busy CPU seconds from /proc/stat, this process's CPU seconds); Linux only."""
    try:
        with open("/proc/stat") as f:
            fields = [float(v) for v in f.readline().split()[1:]]
        hz = os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)  # idle + iowait
    busy = (sum(fields[:8]) - idle) / hz  # user..steal, without guest (already in user)
    own = os.times()
    return busy, own.user + own.system


def foreign_cpu_cores(before, after, wall: float) -> float | None:
    """Average number of cores other processes kept busy between two snapshots."""
    if before is None or after is None or wall <= 0:
        return None
    return max(0.0, ((after[0] - before[0]) - (after[1] - before[1])) / wall)


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


# ---- main ----------------------------------------------------------------------------------
def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--utts", type=int, default=10, help="first N utterances of the corpus (default 10)")
    p.add_argument("--repeats", type=int, default=5, help="interleaved rounds (default 5)")
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    p.add_argument("--griffin-lim-iters", type=int, default=32, help="fast Griffin-Lim iterations (32)")
    p.add_argument("--corpus", choices=sorted(CORPORA), default="ljspeech",
                   help="sentences and clip lengths (default ljspeech: the 22.05 kHz subset)")
    p.add_argument("--paper", action="store_true",
                   help="also time the full-size spikevoice.yaml and fastspeech2_ann.yaml (slower)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print exactly one JSON object on stdout")
    args = p.parse_args(argv)
    if args.utts < 1 or args.repeats < 1 or args.threads < 1 or args.griffin_lim_iters < 0:
        p.error("--utts, --repeats and --threads must be >= 1, --griffin-lim-iters >= 0")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    mel_spec = MelSpec()
    vocoder = GriffinLimVocoder(mel_spec, n_iter=args.griffin_lim_iters)
    frontend = Frontend("en")
    symbols = [SPECIALS[0], SPECIALS[1], *frontend.symbols(), SPECIALS[2]]
    vocab = {s: i for i, s in enumerate(symbols)}
    utts = load_utterances(args.corpus, args.utts, frontend, vocab, mel_spec)
    audio_seconds = sum(u["audio_seconds"] for u in utts)

    specs = {**MODELS, **(PAPER_MODELS if args.paper else {})}
    models, params = {}, {}
    for name, (path, backbone, _) in specs.items():
        models[name], params[name] = build(path, backbone, len(vocab), mel_spec.n_mels, args.seed)
    names = list(models)
    log(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {len(utts)} {args.corpus} "
        f"utterances ({audio_seconds:.1f} s), models: {', '.join(names)}")

    # text frontend (shared by all models, not in the totals): fastest of the rounds
    frontend_s = [min(_timed(frontend, u["text"]) for _ in range(args.repeats)) for u in utts]

    for name in names:  # warm-up (first Griffin-Lim call builds the mel pseudo-inverse)
        synthesise(models[name], vocoder, utts[0])
    acoustic = {k: [math.inf] * len(utts) for k in names}
    vocoding = {k: [math.inf] * len(utts) for k in names}
    load_before = os.getloadavg()[0]
    busy0, wall0 = cpu_busy_snapshot(), time.perf_counter()
    for r in range(args.repeats):
        order = names[r % len(names):] + names[: r % len(names)]
        t_round = time.perf_counter()
        for i, utt in enumerate(utts):
            for name in order:
                a, v, samples = synthesise(models[name], vocoder, utt)
                if samples != utt["frames"] * mel_spec.hop_length:
                    raise RuntimeError(f"{name} {utt['id']}: {samples} samples, expected "
                                       f"{utt['frames'] * mel_spec.hop_length}")
                acoustic[name][i] = min(acoustic[name][i], a)
                vocoding[name][i] = min(vocoding[name][i], v)
        log(f"round {r + 1}/{args.repeats}: {time.perf_counter() - t_round:.1f} s")
    foreign = foreign_cpu_cores(busy0, cpu_busy_snapshot(), time.perf_counter() - wall0)
    if foreign is not None and foreign > 0.1:
        log(f"warning: other processes used {foreign:.2f} cores on average while timing "
            f"({os.cpu_count()} cores); absolute times are inflated, ratios less so")

    results = {}
    for name in names:
        a, v = sum(acoustic[name]), sum(vocoding[name])
        results[name] = {
            "label": specs[name][2], "config": specs[name][0].name,
            "backbone": models[name].config.backbone, "params": params[name],
            "acoustic_s": a, "vocoder_s": v,
            "acoustic_rtf": a / audio_seconds, "vocoder_rtf": v / audio_seconds,
            "total_rtf": (a + v) / audio_seconds,
            "acoustic_s_per_utt": acoustic[name], "vocoder_s_per_utt": vocoding[name],
        }

    def pair(s: str, n: str) -> dict:
        return {"acoustic": ratio(results[s]["acoustic_s"], results[n]["acoustic_s"]),
                "total": ratio(results[s]["acoustic_s"] + results[s]["vocoder_s"],
                               results[n]["acoustic_s"] + results[n]["vocoder_s"])}

    report = {
        "torch": torch.__version__, "python": sys.version.split()[0],
        "threads": torch.get_num_threads(), "cpu_count": os.cpu_count(),
        "loadavg_1min_before": load_before, "loadavg_1min_after": os.getloadavg()[0],
        "foreign_cpu_cores_while_timing": foreign,
        "corpus": args.corpus, "utterances": len(utts), "repeats": args.repeats, "seed": args.seed,
        "batch": 1, "vocab_size": len(vocab), "griffin_lim_iters": args.griffin_lim_iters,
        "nnls_iters": vocoder.nnls_iter, "sample_rate": mel_spec.fs, "hop_length": mel_spec.hop_length,
        "audio_seconds": audio_seconds, "tokens": sum(u["tokens"].numel() for u in utts),
        "mel_frames": sum(u["frames"] for u in utts),
        "durations": "forced: each clip's real frame count (wav length at 22.05 kHz, hop 256) "
                     "spread evenly over its phoneme tokens",
        "timing": "per utterance and stage, the fastest of the interleaved rounds; "
                  "RTF = summed seconds / synthesised audio seconds",
        "items": [{"id": u["id"], "tokens": u["tokens"].numel(), "frames": u["frames"],
                   "clip_seconds": u["clip_seconds"]} for u in utts],
        "frontend_s": sum(frontend_s), "frontend_rtf": sum(frontend_s) / audio_seconds,
        "models": results,
        "spiking_vs_ann": pair("spiking", "ann"),
        "target_total_rtf": TARGET_RTF,
        "spiking_total_rtf_meets_target": results["spiking"]["total_rtf"] <= TARGET_RTF,
    }
    if args.paper:
        report["paper_spiking_vs_ann"] = pair("spiking_paper", "ann_paper")
    if args.json:
        print(json.dumps(report))
    else:
        print_human(report, names)
    return 0


def _timed(fn, *a) -> float:
    t0 = time.perf_counter()
    fn(*a)
    return time.perf_counter() - t0


def print_human(report: dict, names: list[str]) -> None:
    print(f"TTS synthesis, batch 1, {report['utterances']} {report['corpus']} sentences "
          f"({report['tokens']} phoneme tokens, {report['mel_frames']} mel frames, "
          f"{report['audio_seconds']:.1f} s of 22.05 kHz audio), {report['repeats']} interleaved "
          f"rounds (fastest per utterance and stage), {report['threads']} torch thread(s), "
          f"torch {report['torch']}")
    print("durations forced: each clip's real frame count (hop 256) spread evenly over its "
          "phonemes (untrained models)")
    print(f"vocoder: fast Griffin-Lim, {report['griffin_lim_iters']} iterations "
          f"(+ {report['nnls_iters']} NNLS mel-inversion steps), on each model's own mel")
    print()
    print(f"{'model':<36}{'params':>9}{'acoustic s':>12}{'vocoder s':>11}{'acoustic RTF':>14}"
          f"{'vocoder RTF':>13}{'total RTF':>11}")
    for name in names:
        r = report["models"][name]
        print(f"{r['label']:<36}{r['params']['synthesiser'] / 1e6:>7.2f} M{r['acoustic_s']:>12.3f}"
              f"{r['vocoder_s']:>11.3f}{r['acoustic_rtf']:>14.4f}{r['vocoder_rtf']:>13.4f}"
              f"{r['total_rtf']:>11.4f}")
    print("(params: synthesiser without the training-only aligner, before folding; "
          "inference form: " + ", ".join(f"{n} {report['models'][n]['params']['inference_form'] / 1e6:.2f} M"
                                         for n in names) + ")")
    print()
    pairs = [("spiking / ANN (small)", report["spiking_vs_ann"])]
    if "paper_spiking_vs_ann" in report:
        pairs.append(("spiking / ANN (full size)", report["paper_spiking_vs_ann"]))
    for desc, p in pairs:
        print(f"{desc:<28} acoustic {p['acoustic']:.2f}x   total (with Griffin-Lim) {p['total']:.2f}x")
    rtf = report["models"]["spiking"]["total_rtf"]
    print(f"small spiking total RTF {rtf:.4f} (target <= {report['target_total_rtf']}: "
          f"{'met' if report['spiking_total_rtf_meets_target'] else 'not met'})")
    print(f"text frontend (espeak-ng, shared, not in the totals): RTF {report['frontend_rtf']:.4f}")
    fc = report["foreign_cpu_cores_while_timing"]
    if fc is not None:
        note = "  <- loaded machine: absolute times inflated" if fc > 0.1 else ""
        print(f"other processes kept {fc:.2f} of {report['cpu_count']} cores busy on average while "
              f"timing{note}; 1-min load average before/after "
              f"{report['loadavg_1min_before']:.2f}/{report['loadavg_1min_after']:.2f}")


if __name__ == "__main__":
    sys.exit(main())
