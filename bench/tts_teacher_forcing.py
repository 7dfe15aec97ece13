#!/usr/bin/env python
"""Diagnose a TTS pack's decoding paths: teacher-forced vs free-running, on real utterances.

For each utterance of a Kaldi data dir (``wav.scp`` + ``text`` words), with the pack's own
feature extraction and normalisation (ESPnet's model: fbank, pitch, energy, global MVN), three
mels from the same acoustic model in its inference form:

* ``forced``: the training path in eval mode: the learned aligner's durations on the real mel,
  the real pitch and energy (token averages): everything teacher-forced;
* ``forced_durations``: inference with those durations, but predicted pitch and energy;
* ``free``: inference, everything predicted (what users hear);
* ``free_spread<F>`` for each ``--spread F``: the free mel with each bin's deviation from its
  utterance mean scaled by ``F`` (a global-variance postfilter against over-smoothing).

Reported per path: L1 to the real normalised mel (``forced*`` only: same length), the mean
of the mel's per-bin std over frames vs the real one (over-smoothing), the frames vs real,
and the Whisper WER of its Griffin-Lim audio (``--whisper tiny.en|base``, optional extra). A
teacher-forced path scoring *worse* than ``free`` points at a train/inference mismatch.

    .venv/bin/python bench/tts_teacher_forcing.py --data egs/kathleen/tts1/data/dev --max_utts 20
    .venv/bin/python bench/tts_teacher_forcing.py --model PACK --speaker kathleen --data DEV_DIR
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default=None, help="TTS pack (default: the shipped voice)")
    p.add_argument("--data", type=Path, required=True, help="Kaldi data dir: wav.scp + text (words)")
    p.add_argument("--speaker", default=None,
                   help="a multi-speaker pack's speaker (default: its first, as synthesize)")
    p.add_argument("--max_utts", type=int, default=20)
    p.add_argument("--whisper", default="base", help="tiny.en | base | none")
    p.add_argument("--spread", default="",
                   help="comma-separated factors F: also score the free mel with each bin's deviation "
                        "from its utterance mean times F (e.g. 1.2,1.4)")
    p.add_argument("--json", type=Path, default=None, help="write the numbers here too")
    args = p.parse_args(argv)

    from spikespeech import Synthesizer
    from spikespeech.audio import load_audio
    from spikespeech.data.kaldi import read_table
    from spikespeech.recipe.tts_score import normalize_text, word_error_rate

    synthesizer = Synthesizer(args.model)
    sid = synthesizer.speaker_id(args.speaker)  # None for a one-speaker pack
    speaker_ids = None if sid is None else torch.tensor([sid])
    t2s, acoustic = synthesizer.text2speech, synthesizer.acoustic
    espnet_model = t2s.model  # feature extraction and normalisation as in training
    asr = None
    if args.whisper != "none":
        from spikespeech.recipe.whisper_asr import WhisperASR

        asr = WhisperASR(args.whisper)
    wavs, texts = read_table(args.data / "wav.scp"), read_table(args.data / "text")
    utts = sorted(wavs)[: args.max_utts]
    factors = [float(f) for f in args.spread.split(",") if f.strip()]
    paths = ("real", "forced", "forced_durations", "free", *(f"free_spread{f}" for f in factors))
    l1 = {p: [] for p in paths[1:3]}
    spread = {p: [] for p in paths}
    frames = {p: 0 for p in paths}
    refs, hyps = [], {p: [] for p in paths}
    with torch.no_grad():
        for utt in utts:
            speech = torch.from_numpy(load_audio(wavs[utt], synthesizer.sample_rate))[None]
            lengths = torch.tensor([speech.shape[1]])
            feats, flen = espnet_model.feats_extract(speech, lengths)
            pitch, _ = espnet_model.pitch_extract(speech, lengths, feats_lengths=flen)
            energy, _ = espnet_model.energy_extract(speech, lengths, feats_lengths=flen)
            feats, _ = espnet_model.normalize(feats, flen)
            pitch, _ = espnet_model.pitch_normalize(pitch, flen)
            energy, _ = espnet_model.energy_normalize(energy, flen)
            phonemes = " ".join(synthesizer.frontend(texts[utt]))
            tokens = torch.tensor(t2s.preprocess_fn(utt, {"text": phonemes})["text"])
            F = int(flen[0])
            out = acoustic(tokens[None], torch.tensor([tokens.numel()]), feats[:, :F], flen,
                           pitch=pitch[:, :F, 0], energy=energy[:, :F, 0], speaker_ids=speaker_ids)
            durations = out.durations[0]
            mels = {"real": feats[0, :F], "forced": out.mel_post[0],
                    "forced_durations": acoustic.infer(tokens, speaker_id=sid, durations=durations)["mel"],
                    "free": acoustic.infer(tokens, speaker_id=sid)["mel"]}
            mean = mels["free"].mean(0, keepdim=True)
            for f in factors:
                mels[f"free_spread{f}"] = mean + f * (mels["free"] - mean)
            for path in ("forced", "forced_durations"):
                l1[path].append(float((mels[path] - mels["real"]).abs().mean()))
            refs.append(normalize_text(texts[utt]))
            for path, mel in mels.items():
                spread[path].append(float(mel.std(0).mean()))
                frames[path] += mel.shape[0]
                if asr is not None:
                    n = torch.tensor([mel.shape[0]])
                    denorm = espnet_model.normalize.inverse(mel[None].clone(), n)[0][0]
                    wav = t2s.vocoder(denorm).reshape(-1).numpy().astype(np.float32)
                    hyps[path].append(normalize_text(asr(_to_16k(wav, synthesizer.sample_rate))))
    result = {"utterances": len(utts), "data": str(args.data), "speaker": args.speaker,
              "l1_to_real": {p: float(np.mean(v)) for p, v in l1.items()},
              "mean_bin_std": {p: float(np.mean(v)) for p, v in spread.items()},
              "frames_vs_real": {p: frames[p] / frames["real"] for p in paths},
              "whisper": args.whisper,
              "wer": {p: word_error_rate(refs, h) for p, h in hyps.items()} if asr is not None else None}
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


def _to_16k(wav: np.ndarray, rate: int) -> np.ndarray:
    from spikespeech.audio import resample

    return wav if rate == 16000 else resample(wav, rate, 16000)


if __name__ == "__main__":
    from spikespeech.errors import SpikespeechError, first_line

    try:
        sys.exit(main())
    except SpikespeechError as exc:  # a bad pack or data dir: one line, not a traceback
        sys.exit(f"tts_teacher_forcing: error: {first_line(str(exc))}")
