"""Energy stage of the recipes: measured firing rates and theoretical energy on a test set.

    python -m spikespeech.recipe.energy --asr_config exp/asr/config.yaml \\
        --model_file exp/asr/valid.acc.ave.pth --data_dir dump/raw/test \\
        --out exp/asr/decode/test/energy.json [--max_utts 50]
    python -m spikespeech.recipe.energy --tts_config exp/tts/config.yaml \\
        --model_file exp/tts/valid.postnet_l1.ave.pth --data_dir dump/raw/test --out energy.json

TTS: the whole acoustic model (SpikeVoice's encoder, variance adaptor, decoder and postnet
in their inference form; not the vocoder) synthesizes the mels of the first ``--max_utts``
texts (the phoneme ``text`` of the data dir; a multi-speaker model takes each utterance's
speaker id from its ``utt2sid``), metered the same way.

Runs the trained model's encoder (frontend, normalisation, encoder; the spiking encoder in
its inference form) on the first ``--max_utts`` utterances of a Kaldi data dir with the
:class:`~spikespeech.energy.EnergyMeter` attached to the encoder, and writes the summed
report: synaptic operations (MACs and ACs), theoretical energy at 45 nm (E_MAC 4.6 pJ,
E_AC 0.9 pJ), the same-shape ANN's energy and the mean firing rate.

For an ANN encoder every counted op is a MAC, so its ratio is 1.0. The meter counts weight
layers and the products it is told about (our ``MatMul``/``ElementwiseMul`` modules); ESPnet's
transformer computes its attention products with plain ``torch.matmul``, which the meter does
not see, so an ESPnet ANN's energy here is a lower bound (favourable to the ANN).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from ..atomic import atomic_write_text
from ..audio.io import AudioError, load_audio
from ..data.kaldi import read_table
from ..layers import fold_for_inference


def measure_test_set(asr_config: Path, model_file: Path, data_dir: Path, max_utts: int) -> dict:
    # isort: off
    from ..espnet import StrictASRTask  # first: ESPnet imports offline
    from ..energy import EnergyMeter

    # isort: on
    model, args = StrictASRTask.build_model_from_file(asr_config, model_file, "cpu")
    fold_for_inference(model.encoder, inplace=True)  # BN and training branches folded
    rate = int((args.frontend_conf or {}).get("fs", 16000))
    wav = read_table(data_dir / "wav.scp")
    if not wav:
        raise ValueError(f"{data_dir}/wav.scp: no utterances")
    utts = sorted(wav)[:max_utts]
    meter = EnergyMeter(model.encoder)
    seconds, measured = 0.0, 0
    with torch.no_grad(), meter:
        for utt in utts:
            try:
                samples = load_audio(wav[utt], rate)
            except AudioError as exc:
                print(f"energy: skipping {utt}: {exc}", file=sys.stderr)
                continue
            speech = torch.from_numpy(samples)[None]
            model.encode(speech, torch.tensor([speech.shape[1]]))
            seconds += len(samples) / rate
            measured += 1
    if not measured:
        raise ValueError(f"{data_dir}: none of the first {len(utts)} utterances could be read")
    return summarize(meter.report(), measured, {"audio_seconds": round(seconds, 3),
                                                "encoder": type(model.encoder).__name__})


def measure_tts(tts_config: Path, model_file: Path, data_dir: Path, max_utts: int) -> dict:
    # isort: off
    from ..espnet import StrictTTSTask  # first: ESPnet imports offline
    from ..energy import EnergyMeter

    # isort: on
    model, args = StrictTTSTask.build_model_from_file(tts_config, model_file, "cpu")
    acoustic = fold_for_inference(model.eval().tts.model, inplace=True)
    texts = read_table(data_dir / "text")
    if not texts:
        raise ValueError(f"{data_dir}/text: no utterances")
    utts = sorted(texts)[:max_utts]
    # a multi-speaker model (recipe --use_sid true) needs each utterance's speaker id, as decoding
    sids = read_table(data_dir / "utt2sid") if acoustic.config.num_speakers else {}
    missing = [utt for utt in utts if sids and utt not in sids]
    if missing:
        raise ValueError(f"{data_dir}/utt2sid: no speaker id for {missing[0]}")
    preprocess = StrictTTSTask.build_preprocess_fn(args, False)
    meter = EnergyMeter(acoustic)
    frames = 0
    with torch.no_grad(), meter:
        for utt in utts:
            tokens = torch.from_numpy(preprocess(utt, {"text": texts[utt]})["text"])
            speaker = int(sids[utt]) if sids else None
            frames += int(acoustic.infer(tokens, speaker_id=speaker)["mel"].shape[0])
    return summarize(meter.report(), len(utts), {"mel_frames": frames, "model": type(acoustic).__name__})


def summarize(report, measured: int, extra: dict) -> dict:
    """The recipe's energy.json fields from a meter report over ``measured`` utterances."""
    total = report.to_dict()["total"]
    return {
        "utterances": measured,
        **extra,
        "firing_rate": total["firing_rate"] if report.neurons else None,
        "macs": total["macs"],
        "acs": total["acs"],
        "energy_uj_per_utt": total["energy_pj"] / 1e6 / measured,
        "ann_energy_uj_per_utt": total["ann_energy_pj"] / 1e6 / measured,
        "ann_to_snn_ratio": total["ann_to_snn_ratio"],
        "e_mac_pj": report.e_mac_pj,
        "e_ac_pj": report.e_ac_pj,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m spikespeech.recipe.energy",
                                description=__doc__.split("\n\n")[0])
    kind = p.add_mutually_exclusive_group(required=True)
    kind.add_argument("--asr_config", type=Path, help="ESPnet ASR config (encoder energy)")
    kind.add_argument("--tts_config", type=Path, help="ESPnet TTS config (acoustic model energy)")
    p.add_argument("--model_file", type=Path, required=True)
    p.add_argument("--data_dir", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True, help="energy.json to write")
    p.add_argument("--max_utts", type=int, default=50)
    args = p.parse_args(argv)
    config = args.asr_config or args.tts_config
    for path in (config, args.model_file, args.data_dir):
        if not path.exists():
            print(f"energy: error: {path}: not found", file=sys.stderr)
            return 2
    if args.max_utts < 1:
        print(f"energy: error: --max_utts must be >= 1 (got {args.max_utts})", file=sys.stderr)
        return 2
    try:
        measure = measure_test_set if args.asr_config else measure_tts
        result = measure(config, args.model_file, args.data_dir, args.max_utts)
    except ValueError as exc:
        print(f"energy: error: {exc}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, json.dumps(result, indent=2) + "\n")
    rate = "-" if result["firing_rate"] is None else f"{result['firing_rate']:.3f}"
    print(f"energy: {result['utterances']} utterances, {result['energy_uj_per_utt']:.2f} uJ/utt "
          f"vs ANN {result['ann_energy_uj_per_utt']:.2f} ({result['ann_to_snn_ratio']:.2f}x), "
          f"firing rate {rate}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
