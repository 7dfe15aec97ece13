#!/usr/bin/env bash
# The main job on shipped defaults: install the locked environment, then print the energy
# report (firing rates, MACs/ACs, energy vs ANN) of the shipped IML-Spikeformer encoder.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/uv.sh
exec $UV run --frozen spikespeech energy \
  --config spikespeech/conf/encoder/iml_spikeformer_small.yaml "$@"
