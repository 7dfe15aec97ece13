#!/usr/bin/env bash
# FSDD spoken digits (8 kHz, 6 speakers): IML-Spikeformer ASR, official split (takes 0-4 of
# every speaker are the test set). Its ANN twin runs through the same stages with
#   ./run.sh --asr_config conf/train_asr_transformer.yaml
# and both land side by side in exp/RESULTS.md. Options: see ../../../recipes/asr.sh --help.
set -euo pipefail
cd "$(dirname "$0")"
exec ../../../recipes/asr.sh \
    --train_set train --valid_set dev --test_sets "test" \
    --fs 8000 --token_type char --min_wav_duration 0.1 --max_wav_duration 5 \
    --asr_config conf/train_asr_spiking.yaml \
    --inference_config conf/decode_asr.yaml \
    "$@"
