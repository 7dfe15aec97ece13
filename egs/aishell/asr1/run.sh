#!/usr/bin/env bash
# AISHELL-1 (OpenSLR 33, 178 h Mandarin, 16 kHz): IML-Spikeformer ASR at full scale (our guess at
# the size), char tokens, speed perturbation 0.9/1.0/1.1 as in ESPnet's AiShell recipe. Reported
# for IML-Spikeformer: 6.0 % CER (quoted to this project, unverified against the paper).
# Data: put data_aishell.tgz (or its extracted data_aishell/) under --data_dir, or pass
# --local_data_opts "--download true" on a machine with internet. Needs GPUs to train at
# this scale (--ngpu N). ANN twin: ./run.sh --asr_config conf/train_asr_transformer.yaml
set -euo pipefail
cd "$(dirname "$0")"
exec ../../../recipes/asr.sh \
    --train_set train --valid_set dev --test_sets "dev test" \
    --fs 16000 --token_type char --speed_perturb_factors "0.9 1.0 1.1" \
    --asr_config conf/train_asr_iml_spikeformer.yaml \
    --inference_config conf/decode_asr.yaml \
    "$@"
