#!/usr/bin/env bash
# CSMSC (DataBaker BZNSYP: one female Mandarin voice, 10,000 utterances, 48 kHz): SpikeVoice TTS,
# dumped at 24 kHz as ESPnet's csmsc/tts1, Mandarin phonemes (pypinyin initials + tonal finals,
# --language zh). The corpus needs a registration at data-baker.com: extract BZNSYP.rar into
# ./downloads (or pass --local_data_opts "--data_dir DIR"). Sets as ESPnet: the last 100
# utterances test, the 100 before them dev, the other 9,800 train.
#   ./run.sh                                                # CPU-sized model, all stages
#   ./run.sh --tts_config conf/train_spikevoice.yaml --ngpu 1   # full size (GPU)
# ANN FastSpeech2 twin (same code, spikes off): --tts_config conf/train_fastspeech2_ann_small.yaml
# Scoring (stage 9): MCD and F0 RMSE; no Mandarin recognizer, so no WER (--score_asr none).
# Options: ../../../recipes/tts.sh --help.
set -euo pipefail
cd "$(dirname "$0")"
exec ../../../recipes/tts.sh \
    --train_set train --valid_set dev --test_sets "test" \
    --fs 24000 --language zh --nj 2 --inference_nj 2 \
    --tts_config conf/train_spikevoice_small.yaml \
    "$@"
