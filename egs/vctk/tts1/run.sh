#!/usr/bin/env bash
# VCTK 0.92 (CSTR; 110 English speakers, 48 kHz, mic1): multi-speaker SpikeVoice TTS, dumped at
# 22.05 kHz, English phonemes from the offline espeak-ng frontend, a speaker-id embedding
# (--use_sid true: data/…/spk2sid, utt2sid; the model's speaker count comes from spk2sid).
# Put VCTK-Corpus-0.92.zip (or the extracted VCTK-Corpus-0.92/) into ./downloads, pass
# --local_data_opts "--data_dir DIR", or let it download (11 GB):
#   ./run.sh --local_data_opts "--download true"
#   ./run.sh --tts_config conf/train_spikevoice.yaml --ngpu 1   # full size (GPU)
# ANN FastSpeech2 twin (same code, spikes off): --tts_config conf/train_fastspeech2_ann_small.yaml
# Sets as ESPnet's vctk/tts1: per speaker the last 5 utterances dev, the 5 before them test.
# Options: ../../../recipes/tts.sh --help.
set -euo pipefail
cd "$(dirname "$0")"
exec ../../../recipes/tts.sh \
    --train_set train --valid_set dev --test_sets "test" \
    --fs 22050 --language en --use_sid true --nj 2 --inference_nj 2 \
    --tts_config conf/train_spikevoice_small.yaml \
    "$@"
