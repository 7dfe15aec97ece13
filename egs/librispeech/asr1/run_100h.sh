#!/usr/bin/env bash
# LibriSpeech train-clean-100 variant of run.sh (same configs; BPE 5000 as ESPnet's
# librispeech_100 recipe). Data prep writes only the 100 h training subset; your
# --local_data_opts are added to its "--variant 100".
set -euo pipefail
cd "$(dirname "$0")"
data_opts="--variant 100"
args=()
while [ $# -gt 0 ]; do
    case $1 in
        --local_data_opts) data_opts="$data_opts ${2:?--local_data_opts needs a value}"; shift 2 ;;
        *) args+=("$1"); shift ;;
    esac
done
exec ./run.sh --train_set train_clean_100 --expdir exp_100h --local_data_opts "$data_opts" \
    ${args[@]+"${args[@]}"}
