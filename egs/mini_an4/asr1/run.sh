#!/usr/bin/env bash
# mini AN4 (ESPnet's CI subset of CMU AN4, NIST SPHERE, 16 kHz): every stage of the recipe
# end to end in a few minutes, BPE tokens included; the WER of 4 training utterances means
# nothing. ANN twin: ./run.sh --asr_config conf/train_asr_transformer.yaml
set -euo pipefail
cd "$(dirname "$0")"
exec ../../../recipes/asr.sh \
    --train_set train_nodev --valid_set train_dev --test_sets "train_dev test" \
    --fs 16000 --token_type bpe --nbpe 30 --nj 2 --inference_nj 2 \
    --asr_config conf/train_asr_spiking.yaml \
    --inference_config conf/decode_asr.yaml \
    "$@"
