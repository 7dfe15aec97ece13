"""Energy stage of the recipes: measured firing rates and theoretical energy on a test set.

    python -m spikespeech.recipe.energy --asr_config exp/asr/config.yaml \\
        --model_file exp/asr/valid.acc.ave.pth --data_dir dump/raw/test \\
        --out exp/asr/decode/test/energy.json [--max_utts 50] \\
        [--inference_config conf/decode_asr.yaml] [--inference_args "--decoding_mode attention"]
    python -m spikespeech.recipe.energy --tts_config exp/tts/config.yaml \\
        --model_file exp/tts/valid.postnet_l1.ave.pth --data_dir dump/raw/test --out energy.json

ASR: decodes the first ``--max_utts`` utterances of a Kaldi data dir as the decode stage does
(:class:`~spikespeech.espnet.speech2text.ModeSpeech2Text`: ``--decoding_mode`` from
``--inference_args``, default ``attention`` as ``spikespeech.bin.asr_inference``, and the beam
options of ``--inference_config`` / ``--inference_args``; no language model: it is not part
of the ASR model) with an :class:`~spikespeech.energy.EnergyMeter` on the whole ASR model (the
spiking encoder in its inference form), and writes the summed report split into the scopes of
:mod:`spikespeech.espnet.energy_scopes`: front-end, encoder blocks, decoder (every call the
decoding mode makes, autoregressive steps included; also per output token) and CTC head, each
with synaptic operations (MACs and ACs), theoretical energy at 45 nm (E_MAC 4.6 pJ, E_AC
0.9 pJ), the same layers' ANN energy and their ratio, then ``whole_model``. The top-level keys
(``firing_rate``, ``energy_uj_per_utt``, ``ann_to_snn_ratio``, ...) keep what they covered
before scopes, the encoder (front-end + encoder blocks), and say so in ``scope``.

TTS: the whole acoustic model (SpikeVoice's encoder, variance adaptor, decoder and postnet
in their inference form; not the vocoder) synthesizes the mels of the first ``--max_utts``
texts (the phoneme ``text`` of the data dir; a multi-speaker model takes each utterance's
speaker id from its ``utt2sid``), metered the same way; the top level is the acoustic model
(``scope``), ``scopes`` its parts (:mod:`spikespeech.tts.energy_scopes`).

For an ANN every counted op is a MAC, so its ratio is 1.0. The meter counts weight layers and
the products it is told about (our ``MatMul``/``ElementwiseMul`` modules); ESPnet's transformer
encoder and decoder compute their attention products with plain ``torch.matmul``, which the
meter does not see, so their energy here is a lower bound (favourable to the ANN parts).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import torch

from ..atomic import atomic_write_text
from ..audio.io import AudioError, load_audio
from ..config import load_yaml
from ..data.kaldi import read_table
from ..layers import fold_for_inference

RECIPE_MODE = "attention"  # spikespeech.bin.asr_inference's default, so the decode stage's
# asr_inference options that choose what is decoded (the rest, e.g. --batch_size, change nothing)
DECODING_OPTIONS = {"decoding_mode": str, "beam_size": int, "ctc_weight": float, "penalty": float,
                    "maxlenratio": float, "minlenratio": float}


def decoding_options(inference_config: Path | None, inference_args: str = "") -> dict:
    """The decode stage's :data:`DECODING_OPTIONS`: ``inference_config``'s, overridden by those in
    ``inference_args`` (as asr_inference reads them); ``decoding_mode`` always set."""
    options = {"decoding_mode": RECIPE_MODE}
    if inference_config is not None:
        conf = load_yaml(inference_config)
        options |= {key: conf[key] for key in DECODING_OPTIONS if key in conf}
    parser = argparse.ArgumentParser(add_help=False)
    for key, kind in DECODING_OPTIONS.items():
        parser.add_argument(f"--{key}", type=kind)
    given, _ = parser.parse_known_args(shlex.split(inference_args))
    return options | {key: value for key, value in vars(given).items() if value is not None}


def measure_test_set(asr_config: Path, model_file: Path, data_dir: Path, max_utts: int,
                     options: dict | None = None) -> dict:
    """energy.json of decoding the first ``max_utts`` utterances with ``options``
    (:func:`decoding_options`; default: mode ``attention``, ESPnet's beam defaults)."""
    # isort: off
    from ..espnet.speech2text import ModeSpeech2Text  # first: ESPnet imports offline
    from ..energy import EnergyMeter
    from ..espnet.energy_scopes import WHOLE_MODEL, asr_energy_summary, asr_scoped_report

    # isort: on
    options = {"decoding_mode": RECIPE_MODE, **(options or {})}
    speech2text = ModeSpeech2Text(asr_train_config=str(asr_config), asr_model_file=str(model_file),
                                  device="cpu", nbest=1, **options)
    model = speech2text.asr_model
    fold_for_inference(model.encoder, inplace=True)  # BN and training branches folded
    rate = int((load_yaml(asr_config).get("frontend_conf") or {}).get("fs", 16000))
    wav = read_table(data_dir / "wav.scp")
    if not wav:
        raise ValueError(f"{data_dir}/wav.scp: no utterances")
    utts = sorted(wav)[:max_utts]
    meter = EnergyMeter(model, scope=WHOLE_MODEL)
    seconds, measured, tokens = 0.0, 0, 0
    with torch.no_grad(), meter:
        for utt in utts:
            try:
                samples = load_audio(wav[utt], rate)
            except AudioError as exc:
                print(f"energy: skipping {utt}: {exc}", file=sys.stderr)
                continue
            results = speech2text(torch.from_numpy(samples))
            tokens += len(results[0][2]) if results else 0
            seconds += len(samples) / rate
            measured += 1
    if not measured:
        raise ValueError(f"{data_dir}: none of the first {len(utts)} utterances could be read")
    report = asr_scoped_report(meter.report(), tokens)
    return {"utterances": measured, "audio_seconds": round(seconds, 3),
            "encoder": type(model.encoder).__name__, **options, "output_tokens": tokens,
            **asr_energy_summary(report, measured, "_per_utt"),
            "e_mac_pj": report.e_mac_pj, "e_ac_pj": report.e_ac_pj}


def measure_tts(tts_config: Path, model_file: Path, data_dir: Path, max_utts: int) -> dict:
    # isort: off
    from ..espnet import StrictTTSTask  # first: ESPnet imports offline
    from ..energy import EnergyMeter, split_scopes
    from ..tts.energy_scopes import ACOUSTIC_MODEL, SPIKEVOICE_SCOPES

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
    meter = EnergyMeter(acoustic, scope=ACOUSTIC_MODEL)
    frames = 0
    with torch.no_grad(), meter:
        for utt in utts:
            tokens = torch.from_numpy(preprocess(utt, {"text": texts[utt]})["text"])
            speaker = int(sids[utt]) if sids else None
            frames += int(acoustic.infer(tokens, speaker_id=speaker)["mel"].shape[0])
    report = split_scopes(meter.report(), SPIKEVOICE_SCOPES)
    return {"utterances": len(utts), "mel_frames": frames, "model": type(acoustic).__name__,
            **report.summary(len(utts), "_per_utt"), "e_mac_pj": report.e_mac_pj, "e_ac_pj": report.e_ac_pj}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m spikespeech.recipe.energy",
                                description=__doc__.split("\n\n")[0])
    kind = p.add_mutually_exclusive_group(required=True)
    kind.add_argument("--asr_config", type=Path, help="ESPnet ASR config (energy per scope of a decode)")
    kind.add_argument("--tts_config", type=Path, help="ESPnet TTS config (acoustic model energy)")
    p.add_argument("--model_file", type=Path, required=True)
    p.add_argument("--data_dir", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True, help="energy.json to write")
    p.add_argument("--max_utts", type=int, default=50)
    p.add_argument("--inference_config", type=Path,
                   help="ASR: the decode stage's inference config (its beam options)")
    p.add_argument("--inference_args", default="",
                   help="ASR: the decode stage's extra asr_inference arguments; its "
                   f"{', '.join('--' + k for k in DECODING_OPTIONS)} are used, the others ignored")
    args = p.parse_args(argv)
    config = args.asr_config or args.tts_config
    for path in (config, args.model_file, args.data_dir, args.inference_config):
        if path is not None and not path.exists():
            print(f"energy: error: {path}: not found", file=sys.stderr)
            return 2
    if args.max_utts < 1:
        print(f"energy: error: --max_utts must be >= 1 (got {args.max_utts})", file=sys.stderr)
        return 2
    try:
        if args.asr_config:
            options = decoding_options(args.inference_config, args.inference_args)
            result = measure_test_set(config, args.model_file, args.data_dir, args.max_utts, options)
        else:
            result = measure_tts(config, args.model_file, args.data_dir, args.max_utts)
    except ValueError as exc:
        print(f"energy: error: {exc}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, json.dumps(result, indent=2) + "\n")
    print(f"energy: {result['utterances']} utterances; per utterance:")
    for part in [*result["scopes"], *([result["whole_model"]] if "whole_model" in result else []), result]:
        rate = "-" if part["firing_rate"] is None else f"{part['firing_rate']:.3f}"
        ratio = "-" if part["ann_to_snn_ratio"] is None else f"{part['ann_to_snn_ratio']:.2f}x"
        print(f"  {part['scope']}: {part['energy_uj_per_utt']:.2f} uJ vs ANN "
              f"{part['ann_energy_uj_per_utt']:.2f} uJ ({ratio}), firing rate {rate}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
