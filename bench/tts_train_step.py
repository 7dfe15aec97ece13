#!/usr/bin/env python
"""SpikeVoice training-step throughput: spiking models vs their ANN twins (CPU or CUDA).

For every TTS config in ``--configs`` (default: ``small`` and the full-size ``spikevoice``,
from ``spikespeech/conf/tts/<name>.yaml``, or a YAML path) and every backbone in
``--backbones`` (``spiking`` as configured; ``ann`` is the same YAML with ``backbone: ann``,
the FastSpeech2-style twin with spikes off), builds ``SpikeVoice(--vocab, --n-mels, cfg)``
after the same ``torch.manual_seed`` and times full training steps as the recipes run them:
``zero_grad``, forward with the learned aligner (MAS included; ``--durations forced`` gives
external durations instead), ``loss.backward()``, gradient clipping at 1.0 and an Adam step
(lr 1e-3, as ``egs/*/tts1/conf/train_spikevoice.yaml``). fp32 throughout.

Input: one fixed random batch of ``--batch`` utterances, ragged like a real one: the first
has ``--tokens`` phoneme tokens and ``--frames`` mel frames, the others random token counts
in [tokens/2, tokens] with frames in the same ratio; random log-mels, pitch and energy.
The cost depends on these shapes only, not on the values.

Per model: ``--warmup`` untimed steps, then ``--steps`` timed ones (``torch.cuda.synchronize``
around each on CUDA); reported: median and min step time, steps/s, valid mel frames/s,
hours for 100k steps, and on CUDA the peak memory of a step (``max_memory_allocated``,
reset per model: ``peak_step_mib`` above the step-start level, ``peak_total_mib`` including
weights, gradients and Adam state). A model that fails (e.g. out of memory) is reported
with a one-line error and the others still run (exit status 1 then).

Run ``python bench/tts_train_step.py --help``; see ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import dataclasses as dc
import json
import statistics
import sys
import time
from pathlib import Path

import torch
from train_step import describe_device, resolve_device, synchronize

from spikespeech.config import ConfigError
from spikespeech.tts import SpikeVoice, SpikeVoiceConfig, load_tts_config

CONF = Path(__file__).resolve().parents[1] / "spikespeech" / "conf" / "tts"
BACKBONES = ("spiking", "ann")
MIB = float(2**20)
# shape defaults per device type: (batch, tokens, frames); a GPU gets a realistic batch
# (~LJSpeech: 150 phonemes, 600 frames of 11.6 ms), a CPU one that finishes in minutes
DEFAULT_SHAPES = {"cuda": (16, 150, 600), "cpu": (2, 30, 120)}


def log(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


# ---- configs and inputs ---------------------------------------------------------------------
def config_path(name: str) -> Path:
    """``conf/tts/<name>.yaml`` for a bare name, else the path as given."""
    return CONF / f"{name}.yaml" if "/" not in name and not name.endswith(".yaml") else Path(name)


def load_config(name: str, backbone: str) -> SpikeVoiceConfig:
    """The config ``name`` with ``backbone`` ("spiking" keeps the YAML's own backbone)."""
    cfg = load_tts_config(config_path(name))
    return cfg if backbone == "spiking" else dc.replace(cfg, backbone=backbone)


def spread(frames: int, tokens: int) -> torch.Tensor:
    """``frames`` spread evenly over ``tokens``: token i gets floor((i+1)F/L) - floor(iF/L)."""
    edges = torch.arange(tokens + 1) * frames // tokens
    return edges[1:] - edges[:-1]


def make_batch(args: argparse.Namespace) -> dict[str, torch.Tensor]:
    """A padded random batch on ``args.device`` (tokens padded with -1, as ESPnet pads)."""
    g = torch.Generator().manual_seed(args.seed)
    B, L, F = args.batch, args.tokens, args.frames
    token_lengths = torch.randint(max(1, L // 2), L + 1, (B,), generator=g)
    token_lengths[0] = L
    mel_lengths = torch.clamp(token_lengths * F // L, min=token_lengths)  # >= 1 frame per token
    mel_lengths[0] = F
    tokens = torch.randint(0, args.vocab, (B, L), generator=g)
    durations = torch.zeros(B, L, dtype=torch.long)
    for i, (t, f) in enumerate(zip(token_lengths.tolist(), mel_lengths.tolist(), strict=True)):
        tokens[i, t:] = -1
        durations[i, :t] = spread(f, t)
    batch = {
        "tokens": tokens, "token_lengths": token_lengths,
        "mels": torch.randn(B, F, args.n_mels, generator=g),
        "mel_lengths": mel_lengths,
        "pitch": torch.randn(B, F, generator=g), "energy": torch.randn(B, F, generator=g),
    }
    if args.durations == "forced":
        batch["durations"] = durations
    return {k: v.to(args.device) for k, v in batch.items()}


# ---- one model ------------------------------------------------------------------------------
def train_step(model: SpikeVoice, opt: torch.optim.Optimizer, batch: dict, forward) -> float:
    """One recipe-like training step, ``forward`` being ``model`` or its compiled form;
    returns its loss."""
    opt.zero_grad(set_to_none=True)
    out = forward(**batch)
    out.loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return float(out.loss.detach())


def measure(args: argparse.Namespace, name: str, backbone: str, batch: dict) -> dict:
    """Build one model, warm up, time ``args.steps`` steps; the result row."""
    device = args.device
    cfg = load_config(name, backbone)
    torch.manual_seed(args.seed)
    model = SpikeVoice(args.vocab, args.n_mels, cfg).to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    # compiled during the warm-up steps (untimed); what Dynamo cannot trace runs eagerly
    forward = torch.compile(model) if args.compile else model
    on_cuda = device.type == "cuda"
    if on_cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    loss = None
    for _ in range(args.warmup):
        loss = train_step(model, opt, batch, forward)
    times = []
    step_peak = None
    for i in range(args.steps):
        synchronize(device)
        if on_cuda and i == 0:  # weights, grads and Adam state exist from here on
            base = torch.cuda.memory_allocated(device)
            torch.cuda.reset_peak_memory_stats(device)
        t0 = time.perf_counter()
        loss = train_step(model, opt, batch, forward)  # float(): already waits for the loss
        synchronize(device)
        times.append(time.perf_counter() - t0)
        if on_cuda and i == 0:
            step_peak = (torch.cuda.max_memory_allocated(device) - base) / MIB
    median = statistics.median(times)
    frames = int(batch["mel_lengths"].sum())
    return {
        "config": name, "backbone": cfg.backbone, "compiled": args.compile,
        "time_steps": cfg.encoder.time_steps if cfg.backbone == "spiking" else 1,
        "params": model.num_parameters(), "params_without_aligner": model.num_parameters(True),
        "median_step_s": median, "min_step_s": min(times), "step_s": times,
        "steps_per_s": 1.0 / median, "mel_frames_per_s": frames / median,
        "hours_per_100k_steps": 1e5 * median / 3600.0,
        "peak_step_mib": step_peak,
        "peak_total_mib": torch.cuda.max_memory_allocated(device) / MIB if on_cuda else None,
        "final_loss": loss, "error": None,
    }


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


# ---- main -----------------------------------------------------------------------------------
def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--device", default="cpu", help="torch device: cpu, cuda or cuda:N")
    p.add_argument("--configs", nargs="+", default=["small", "spikevoice"],
                   help="TTS configs: names in spikespeech/conf/tts or YAML paths")
    p.add_argument("--backbones", nargs="+", choices=BACKBONES, default=list(BACKBONES),
                   help="spiking: the config as is; ann: the same config with backbone: ann")
    p.add_argument("--batch", type=int, default=None,
                   help=f"utterances per batch (default: {DEFAULT_SHAPES['cuda'][0]} on CUDA, "
                        f"{DEFAULT_SHAPES['cpu'][0]} on the CPU)")
    p.add_argument("--tokens", type=int, default=None,
                   help="phoneme tokens of the longest utterance (default: "
                        f"{DEFAULT_SHAPES['cuda'][1]} / {DEFAULT_SHAPES['cpu'][1]})")
    p.add_argument("--frames", type=int, default=None,
                   help="mel frames of the longest utterance (default: "
                        f"{DEFAULT_SHAPES['cuda'][2]} / {DEFAULT_SHAPES['cpu'][2]})")
    p.add_argument("--vocab", type=int, default=78, help="token vocabulary (as the YAML comments)")
    p.add_argument("--n-mels", type=int, default=80)
    p.add_argument("--durations", choices=("aligner", "forced"), default="aligner",
                   help="aligner: learned aligner + MAS, as the recipes train; forced: "
                        "external durations (frames spread evenly over the tokens)")
    p.add_argument("--steps", type=int, default=5, help="timed steps per model")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps per model first")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--compile", action="store_true",
                   help="time torch.compile(model) (default inductor backend; needs a C compiler "
                        "on the CPU); compiling happens in the warm-up steps")
    p.add_argument("--json", action="store_true",
                   help="print exactly one JSON object on stdout (progress goes to stderr)")
    return p.parse_args(argv)


def check_args(args: argparse.Namespace) -> None:
    """Resolve the device and shape defaults; ValueError with a one-line reason if bad."""
    args.device = resolve_device(args.device)
    defaults = DEFAULT_SHAPES["cuda" if args.device.type == "cuda" else "cpu"]
    for key, default in zip(("batch", "tokens", "frames"), defaults, strict=True):
        if getattr(args, key) is None:
            setattr(args, key, default)
    for key in ("batch", "tokens", "frames", "vocab", "n_mels", "steps"):
        if getattr(args, key) < 1:
            raise ValueError(f"--{key.replace('_', '-')} {getattr(args, key)}: must be >= 1")
    if args.compile and args.warmup < 1:
        raise ValueError("--compile needs --warmup >= 1: the first step compiles")
    if args.warmup < 0:
        raise ValueError(f"--warmup {args.warmup}: must be >= 0")
    if args.frames < args.tokens:
        raise ValueError(f"--frames {args.frames} < --tokens {args.tokens}: the aligner needs "
                         "at least one frame per token")
    for name in args.configs:
        path = config_path(name)
        if not path.is_file():
            raise ValueError(f"--configs {name}: no such file {path}")
        try:
            load_tts_config(path)
        except (ConfigError, OSError, ValueError) as exc:
            raise ValueError(f"--configs {name}: {one_line(exc)}") from None


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        check_args(args)
    except ValueError as exc:
        print(f"tts_train_step.py: {exc}", file=sys.stderr)
        return 2
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    batch = make_batch(args)
    log(f"torch {torch.__version__}, device {describe_device(args.device)}, threads "
        f"{torch.get_num_threads()}, B={args.batch} tokens<={args.tokens} frames<={args.frames} "
        f"(valid frames {int(batch['mel_lengths'].sum())}), durations={args.durations}")
    rows = []
    for name in args.configs:
        for backbone in args.backbones:
            log(f"{name}/{backbone}: {args.warmup} warm-up + {args.steps} timed steps ...")
            try:
                row = measure(args, name, backbone, batch)
            except (RuntimeError, MemoryError) as exc:  # torch.OutOfMemoryError is a RuntimeError
                row = {"config": name, "backbone": backbone, "error": one_line(exc)}
                log(f"{name}/{backbone}: FAILED {row['error']}")
            else:
                log(f"{name}/{backbone}: {1e3 * row['median_step_s']:.1f} ms/step, "
                    f"{row['steps_per_s']:.2f} steps/s"
                    + (f", peak {row['peak_total_mib']:.0f} MiB" if row["peak_total_mib"] else ""))
            rows.append(row)
            if args.device.type == "cuda":
                torch.cuda.empty_cache()
    report = {
        "torch": torch.__version__, "python": sys.version.split()[0],
        "device": str(args.device), "device_name": describe_device(args.device),
        "threads": torch.get_num_threads(),
        "tf32": {"matmul": torch.backends.cuda.matmul.allow_tf32,
                 "cudnn": torch.backends.cudnn.allow_tf32},
        "shape": {"batch": args.batch, "tokens": args.tokens, "frames": args.frames,
                  "token_lengths": batch["token_lengths"].tolist(),
                  "mel_lengths": batch["mel_lengths"].tolist(),
                  "vocab": args.vocab, "n_mels": args.n_mels},
        "durations": args.durations, "steps": args.steps, "warmup": args.warmup,
        "seed": args.seed, "models": rows,
        "spiking_vs_ann_time": spiking_vs_ann(rows),
    }
    if args.json:
        print(json.dumps(report))
    else:
        print_human(report)
    return 1 if any(r["error"] for r in rows) else 0


def spiking_vs_ann(rows: list[dict]) -> dict[str, float]:
    """Per config: spiking median step time / ANN twin's, where both ran."""
    ok = {(r["config"], r["backbone"]): r["median_step_s"] for r in rows if not r["error"]}
    return {c: ok[(c, "spiking")] / ok[(c, "ann")] for c, _ in ok
            if (c, "spiking") in ok and (c, "ann") in ok}


def print_human(report: dict) -> None:
    s = report["shape"]
    print(f"SpikeVoice training step: B={s['batch']} tokens<={s['tokens']} frames<={s['frames']} "
          f"durations={report['durations']} | torch {report['torch']}, {report['device_name']}, "
          f"{report['steps']} timed steps")
    print()
    print(f"{'config/backbone':<24}{'params M':>9}{'median ms':>11}{'steps/s':>9}{'frames/s':>10}"
          f"{'h/100k':>8}{'peak MiB':>10}")
    for r in report["models"]:
        label = f"{r['config']}/{r['backbone']}"
        if r["error"]:
            print(f"{label:<24}  FAILED: {r['error']}")
            continue
        peak = "-" if r["peak_total_mib"] is None else f"{r['peak_total_mib']:.0f}"
        print(f"{label:<24}{r['params'] / 1e6:>9.2f}{1e3 * r['median_step_s']:>11.1f}"
              f"{r['steps_per_s']:>9.2f}{r['mel_frames_per_s']:>10.0f}"
              f"{r['hours_per_100k_steps']:>8.1f}{peak:>10}")
    for config, value in report["spiking_vs_ann_time"].items():
        print(f"\n{config}: spiking / ANN step time {value:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
