#!/usr/bin/env bash
# Variant comparison (README: "Variant comparison"): trains, decodes and scores every config in
# conf/compare/ on the same data with the same 12 epochs, then writes the side-by-side table
# to exp/compare/RESULTS.md (spikespeech.recipe.results). Each variant is one run of the recipe
# (stages 6-9: Whisper base and PocketSphinx WER, energy vs the same-shape ANN); rerunning
# resumes where it stopped.
# Usage: local/compare_variants.sh [variant ...]   (default: all of conf/compare/, fastest first)
set -euo pipefail
cd "$(dirname "$0")/.."
variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(fastspeech2_ann_small spikevoice_imls_small spikevoice_sd_small spikevoice_small)
for v in "${variants[@]}"; do
    [ -f "conf/compare/$v.yaml" ] || { echo "local/compare_variants.sh: conf/compare/$v.yaml: no such variant" >&2; exit 2; }
done
./run.sh --stage 1 --stop_stage 5
for v in "${variants[@]}"; do
    ./run.sh --stage 6 --stop_stage 9 --tts_config "conf/compare/$v.yaml" --score_asr whisper,pocketsphinx
done
mkdir -p exp/compare
python=${PYTHON:-python3}
[ -n "${PYTHON:-}" ] || [ ! -x ../../../.venv/bin/python ] || python=../../../.venv/bin/python
PYTHONPATH=../../..${PYTHONPATH:+:$PYTHONPATH} "$python" -m spikespeech.recipe.results \
    --out exp/compare/RESULTS.md "${variants[@]/#/exp/tts_}"
cat exp/compare/RESULTS.md
