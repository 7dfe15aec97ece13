#!/usr/bin/env bash
# Kathleen + FSDD (8 kHz): the shipped default IML-Spikeformer ASR model (spikespeech/models/).
# Trains on Kathleen's read prompts and FSDD's official training takes; tests on FSDD's
# official test split and on Kathleen's last 50 prompts. Kathleen is downsampled to FSDD's
# 8 kHz so both corpora share one band (and microphone input is resampled the same way).
# Speaker independence: the same recipe without one FSDD speaker, tested on all of its takes:
#   ./run.sh --train_set train_heldout --valid_set dev_heldout --expdir exp_heldout \
#       --test_sets "test_fsdd test_fsdd_spk test_kathleen"
# Options: ../../../recipes/asr.sh --help.
set -euo pipefail
cd "$(dirname "$0")"
exec ../../../recipes/asr.sh \
    --train_set train --valid_set dev --test_sets "test_fsdd test_kathleen" \
    --fs 8000 --token_type char --min_wav_duration 0.1 --max_wav_duration 8 \
    --asr_config conf/train_asr_spiking.yaml \
    --inference_config conf/decode_asr.yaml \
    "$@"
