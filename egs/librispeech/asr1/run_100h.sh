#!/usr/bin/env bash
# LibriSpeech train-clean-100 variant of run.sh (same configs; BPE 5000 as ESPnet's
# librispeech_100 recipe). Data prep writes only the 100 h training subset.
set -euo pipefail
cd "$(dirname "$0")"
exec ./run.sh --train_set train_clean_100 --expdir exp_100h \
    --local_data_opts "--variant 100" "$@"
