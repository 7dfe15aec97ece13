"""Encoder-only real-time factor of the `small` IML-Spikeformer vs same-size ESPnet ANN encoders.

Not the path users run (that is `bench/asr_rtf.py`: the whole `spikespeech transcribe`): this
isolates the encoder, to compare spiking and ANN encoders of one shape.

All models are complete ESPnet ASR models (frontend, encoder, CTC) built from one config
shape: d 256, 4 heads, FFN 1024, 6 blocks, conv2d x4 subsampling. Timed per utterance at
batch 1 in eval mode, interleaved round-robin on the same real speech (Kathleen, 16 kHz),
each utterance's fastest of the repeats counted:
frontend + encoder + greedy CTC. The attention decoder and beam search are left out on
purpose: they are ESPnet's same transformer decoder for every model here, and with random
weights their run time depends on the (meaningless) hypothesis length. The spiking
encoder is timed in its inference form (`fold_for_inference`: BN and branches folded).

    .venv/bin/python bench/encoder_rtf.py [--utterances 20] [--repeats 5] [--json]

Targets (issue 3): spiking RTF <= 1.2 x the ANN transformer's, and <= 0.1 on this CPU.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
KATHLEEN = ROOT.parent / "shared" / "data" / "kathleen" / "flac"
SMALL = ROOT / "spikespeech" / "conf" / "asr" / "small.yaml"
SHAPE = {"output_size": 256, "attention_heads": 4, "linear_units": 1024, "num_blocks": 6,
         "input_layer": "conv2d"}
ANN_ENCODERS = {
    "transformer": ("transformer", {}),
    "conformer": ("conformer", {"cnn_module_kernel": 15, "macaron_style": True,
                                "pos_enc_layer_type": "rel_pos", "selfattention_layer_type": "rel_selfattn",
                                "activation_type": "swish", "use_cnn_module": True}),
}


def build(encoder: str, encoder_conf: dict, work: Path):
    # isort: off
    # first: registers iml_spikeformer and imports ESPnet without its import-time downloads
    from spikespeech.espnet import register
    from spikespeech.layers import fold_for_inference

    register()
    from espnet2.tasks.asr import ASRTask

    # isort: on

    tokens = work / "tokens.txt"
    tokens.write_text("\n".join(["<blank>", "<unk>", *"abcdefghijklmnopqrstuvwxyz'", "<space>",
                                 "<sos/eos>"]) + "\n")
    base = yaml.safe_load(SMALL.read_text())
    base["encoder"], base["encoder_conf"] = encoder, encoder_conf
    base["specaug"], base["normalize"] = None, None
    path = work / f"{encoder}.yaml"
    path.write_text(yaml.safe_dump(base))
    args = ASRTask.get_parser().parse_args(["--config", str(path), "--token_list", str(tokens)])
    model = ASRTask.build_model(args).eval()
    fold_for_inference(model.encoder, inplace=True)
    return model


def load_audio(n: int) -> list[np.ndarray]:
    import soundfile as sf

    files = sorted(KATHLEEN.glob("*.flac"))[:n]
    if not files:
        sys.exit(f"error: {KATHLEEN}: no Kathleen FLAC files found")
    return [sf.read(f, dtype="float32")[0] for f in files]


@torch.no_grad()
def run_one(model, audio: np.ndarray) -> float:
    speech = torch.from_numpy(audio)[None]
    start = time.perf_counter()
    enc, enc_lens = model.encode(speech, torch.tensor([len(audio)]))
    model.ctc.argmax(enc)
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--utterances", type=int, default=20)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    audio = load_audio(args.utterances)
    seconds = sum(len(a) for a in audio) / 16000
    with tempfile.TemporaryDirectory() as tmp:
        models = {"iml_spikeformer": build("iml_spikeformer", dict(SHAPE), Path(tmp))}
        for name, (encoder, extra) in ANN_ENCODERS.items():
            models[name] = build(encoder, {**SHAPE, **extra}, Path(tmp))
    params = {k: sum(p.numel() for p in m.encoder.parameters()) for k, m in models.items()}
    for model in models.values():  # warm-up
        run_one(model, audio[0])
    # per utterance and model, the fastest of the repeats (as timeit advises: slower runs
    # measure other load on the machine, not the model); RTF = sum of those / audio seconds
    best: dict[str, list[float]] = {k: [float("inf")] * len(audio) for k in models}
    names = list(models)
    for r in range(args.repeats):
        order = names[r % len(names):] + names[: r % len(names)]
        for i, clip in enumerate(audio):
            for name in order:
                best[name][i] = min(best[name][i], run_one(models[name], clip))
    rtf = {k: sum(v) / seconds for k, v in best.items()}
    result = {
        "audio_seconds": round(seconds, 2), "utterances": len(audio), "repeats": args.repeats,
        "threads": torch.get_num_threads(), "torch": torch.__version__,
        "rtf": rtf, "encoder_parameters": params,
        "spiking_vs_transformer_rtf": rtf["iml_spikeformer"] / rtf["transformer"],
        "spiking_vs_conformer_rtf": rtf["iml_spikeformer"] / rtf["conformer"],
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"frontend + encoder + greedy CTC, batch 1, {len(audio)} Kathleen utterances "
          f"({seconds:.1f} s), {args.repeats} interleaved repeats (fastest per utterance), "
          f"{result['threads']} threads")
    print(f"{'model':<18}{'encoder params':>16}{'RTF':>10}")
    for name in names:
        print(f"{name:<18}{params[name] / 1e6:>14.2f} M{rtf[name]:>10.4f}")
    ratio = result["spiking_vs_transformer_rtf"]
    print(f"spiking / transformer RTF  {ratio:.3f}  (target <= 1.2)  "
          f"{'PASS' if ratio <= 1.2 else 'FAIL'}")
    print(f"spiking / conformer RTF    {result['spiking_vs_conformer_rtf']:.3f}  (information)")
    print(f"spiking RTF                {rtf['iml_spikeformer']:.4f} (target <= 0.1)  "
          f"{'PASS' if rtf['iml_spikeformer'] <= 0.1 else 'FAIL'}")


if __name__ == "__main__":
    main()
