"""One IMLS step = ``D`` binary slots? Measured on an ASR pack's encoder and real FSDD digits.

    python -m spikespeech.recipe.binary_slots --fsdd ../shared/data/fsdd --clips 50 \\
        --out binary_slots.json [--model PACK] [--calibration_clips 30]

For every clip the pack's own front-end (features, normalisation, conv subsampling) gives the
spiking encoder's input; the encoder (in its inference form) then runs one step, and once per
variant of :mod:`spikespeech.energy.slots` as ``D`` binary slots. Reported per variant: per
neuron and in total, the share of spike counts that differ from the one-step model's and the
mean |difference|; the encoder output's relative L2 error; the token error rate of the slot
model's greedy CTC tokens against the one-step model's; and the digits each gets right.

Clips: evenly spread over FSDD's official test takes (0-4); the ``calibrated`` thresholds come
from its dev takes (45-49), as split by the shipped pack's recipe. It lives beside
:mod:`.energy`, the other measurement of a trained model's inference on real audio.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from ..atomic import atomic_write_text
from ..audio import load_audio
from ..energy.slots import VARIANTS, SlotMismatch, calibrate_thresholds, compare

DIGITS = "zero one two three four five six seven eight nine".split()
TEST_TAKES, DEV_TAKES = range(0, 5), range(45, 50)


def fsdd_clips(fsdd: Path, takes: range, count: int) -> list[Path]:
    """``count`` recordings (``<digit>_<speaker>_<take>.wav``) of ``takes``, evenly spread over
    the sorted list (so over digits and speakers)."""
    files = sorted(p for p in (fsdd / "recordings").glob("*.wav") if int(p.stem.rsplit("_", 1)[1]) in takes)
    if len(files) < count:
        raise ValueError(f"{fsdd}/recordings: {len(files)} recordings of takes "
                         f"{takes.start}-{takes.stop - 1}, fewer than {count}")
    return files[:: len(files) // count][:count]


@torch.no_grad()
def encoder_input(asr_model: torch.nn.Module, samples) -> torch.Tensor:
    """The spiking encoder's input ``(1, L, C)`` for one utterance: the pack's front-end output."""
    from ..espnet.decoding import encode

    spiking = asr_model.encoder.encoder
    captured = []
    handle = spiking.register_forward_pre_hook(lambda module, args: captured.append(args[0]))
    try:
        encode(asr_model, torch.from_numpy(samples))
    finally:
        handle.remove()
    return captured[0]


def token_errors(reference: list[int], hypothesis: list[int]) -> int:
    """Substitutions + deletions + insertions turning ``reference`` into ``hypothesis``."""
    if not reference:
        return len(hypothesis)
    import jiwer

    out = jiwer.process_words(" ".join(map(str, reference)), " ".join(map(str, hypothesis)))
    return out.substitutions + out.deletions + out.insertions


@torch.no_grad()
def measure(transcriber, clips: list[Path], calibration: list[Path], variants=VARIANTS) -> dict:
    """The report (see the module docstring) of ``transcriber``'s pack on ``clips``."""
    from ..espnet.decoding import ctc_greedy_search
    from ..espnet.light_speech2text import token_text

    s2t = transcriber.speech2text
    asr_model, spiking = s2t.asr_model, transcriber.encoder.encoder

    def read(path: Path) -> torch.Tensor:
        return encoder_input(asr_model, load_audio(path, transcriber.sample_rate))

    def greedy(encoder_out: torch.Tensor) -> list[int]:
        return ctc_greedy_search(asr_model.ctc.log_softmax(encoder_out)[0])

    def text(tokens: list[int]) -> str:
        return (token_text(asr_model, s2t.converter, s2t.tokenizer, tokens)[0] or "").strip()

    thresholds = calibrate_thresholds(spiking, (read(p) for p in calibration))
    truth = [DIGITS[int(p.stem[0])] for p in clips]
    neurons = {v: {} for v in variants}
    errors, tokens, rel, right = ({v: 0.0 for v in variants} for _ in range(4))
    reference_right = 0
    for path, word in zip(clips, truth, strict=True):
        x = read(path)
        results = {v: compare(spiking, x, v, thresholds) for v in variants}
        ref = greedy(results[variants[0]].reference)  # the one-step model: the same in each
        reference_right += text(ref) == word
        for v, result in results.items():
            for name, m in result.neurons.items():
                neurons[v][name] = neurons[v].get(name, SlotMismatch()) + m
            hyp = greedy(result.simulated)
            errors[v] += token_errors(ref, hyp)
            tokens[v] += len(ref)
            rel[v] += result.relative_error / len(clips)
            right[v] += text(hyp) == word
    return {
        "levels": spiking.config.neuron.levels,
        "clips": len(clips), "calibration_clips": len(calibration),
        "one_step_digits_right": reference_right / len(clips),
        "variants": {v: {
            "total": sum(neurons[v].values(), SlotMismatch()).summary(),
            "by_kind": {kind: m.summary() for kind, m in by_kind(neurons[v]).items()},
            "encoder_relative_error": rel[v],
            "ctc_token_error_rate": errors[v] / max(tokens[v], 1),
            "digits_right": right[v] / len(clips),
            "neurons": {name: m.summary() for name, m in neurons[v].items()},
        } for v in variants},
    }


def by_kind(neurons: dict[str, SlotMismatch]) -> dict[str, SlotMismatch]:
    """Mismatches summed over the blocks: ``layers.3.attn.qkv.neuron`` → ``attn.qkv.neuron``."""
    out: dict[str, SlotMismatch] = {}
    for name, m in neurons.items():
        kind = name.split(".", 2)[2] if name.startswith("layers.") else name
        out[kind] = out.get(kind, SlotMismatch()) + m
    return out


def table(report: dict) -> str:
    """The report as a Markdown table: a row per variant and neuron kind, then the totals."""
    lines = ["| variant | neurons | firing % (one step) | count mismatch % | mean \\|Δcount\\| "
             "| own-input mismatch % |", "|---|---|---|---|---|---|"]
    for v, r in report["variants"].items():
        for kind, m in [*r["by_kind"].items(), ("all", r["total"])]:
            lines.append(f"| {v} | {kind} | {100 * m['one_step_firing']:.1f} "
                         f"| {100 * m['mismatch_rate']:.2f} | {m['mean_abs_delta']:.3f} "
                         f"| {100 * m['own_input_mismatch_rate']:.2f} |")
    lines += ["", "| variant | encoder output rel. L2 error | CTC greedy token error % vs one step "
              "| digits right % |", "|---|---|---|---|",
              f"| one step | 0 | 0 | {100 * report['one_step_digits_right']:.1f} |"]
    for v, r in report["variants"].items():
        lines.append(f"| {v} | {r['encoder_relative_error']:.3f} | {100 * r['ctc_token_error_rate']:.1f} "
                     f"| {100 * r['digits_right']:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m spikespeech.recipe.binary_slots",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--fsdd", type=Path, required=True, help="the FSDD folder (with recordings/)")
    p.add_argument("--model", default=None, help="ASR pack (default: the shipped one)")
    p.add_argument("--clips", type=int, default=50, help="test clips (of 300)")
    p.add_argument("--calibration_clips", type=int, default=30, help="dev clips (of 300)")
    p.add_argument("--out", type=Path, default=None, help="write the JSON report here too")
    args = p.parse_args(argv)
    if min(args.clips, args.calibration_clips) < 1:
        p.error("--clips and --calibration_clips must be >= 1")
    from ..inference import Transcriber

    try:
        clips = fsdd_clips(args.fsdd, TEST_TAKES, args.clips)
        calibration = fsdd_clips(args.fsdd, DEV_TAKES, args.calibration_clips)
        with Transcriber(args.model, mode="ctc_greedy") as transcriber:
            report = {"model": str(args.model or "shipped default"),
                      **measure(transcriber, clips, calibration)}
    except ValueError as exc:
        print(f"binary_slots: error: {exc}", file=sys.stderr)
        return 2
    print(table(report))
    if args.out is not None:
        atomic_write_text(args.out, json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
