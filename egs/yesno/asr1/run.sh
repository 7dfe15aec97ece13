#!/usr/bin/env bash
# yesno (Kaldi's classic: one speaker, 8 words per file, 8 kHz): IML-Spikeformer ASR with word
# tokens, 31 training files (29 train + 2 dev) / 29 test. ANN twin through the same stages:
#   ./run.sh --asr_config conf/train_asr_transformer.yaml
# Options: ../../../recipes/asr.sh --help.
set -euo pipefail
cd "$(dirname "$0")"
exec ../../../recipes/asr.sh \
    --train_set train_nodev --valid_set train_dev --test_sets "test_yesno" \
    --fs 8000 --token_type word --min_wav_duration 0.1 --max_wav_duration 20 \
    --asr_config conf/train_asr_spiking.yaml \
    --inference_config conf/decode_asr_ctc.yaml \
    "$@"
