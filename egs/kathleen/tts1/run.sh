#!/usr/bin/env bash
# Kathleen (one US-English female voice, 57.6 min, 16 kHz, CC0): the default SpikeVoice voice
# that ships in the package (spikespeech/models/). English phonemes from the offline espeak-ng
# frontend; the last 50 prompts are the test set, scored by MCD, F0 RMSE and the WER pocketsphinx
# gets on our synthesized test sentences vs on Kathleen's real recordings of them.
# Options: ../../../recipes/tts.sh --help.
set -euo pipefail
cd "$(dirname "$0")"
exec ../../../recipes/tts.sh \
    --train_set train --valid_set dev --test_sets "test" \
    --fs 16000 --language en --nj 2 --inference_nj 2 \
    --tts_config conf/train_spikevoice_small.yaml \
    "$@"
