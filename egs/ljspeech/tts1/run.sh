#!/usr/bin/env bash
# LJSpeech (one female US-English voice, 22.05 kHz): SpikeVoice TTS, English phonemes from the
# offline espeak-ng frontend. By default it runs on the 32-clip LJSpeech subset shared beside
# the checkout with the CPU-sized config (every stage in minutes; the voice it learns from 28
# clips is not intelligible). Full corpus, full-size model:
#   ./run.sh --local_data_opts "--data_dir /data/LJSpeech-1.1" --tts_config conf/train_spikevoice.yaml
# ANN FastSpeech2 twin (same code, spikes off): --tts_config conf/train_fastspeech2_ann_small.yaml
# Options: ../../../recipes/tts.sh --help.
set -euo pipefail
cd "$(dirname "$0")"
exec ../../../recipes/tts.sh \
    --train_set train --valid_set dev --test_sets "test" \
    --fs 22050 --language en --nj 2 --inference_nj 2 \
    --tts_config conf/train_spikevoice_small.yaml \
    "$@"
