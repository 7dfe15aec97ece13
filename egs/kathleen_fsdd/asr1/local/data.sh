#!/usr/bin/env bash
# Prepare Kathleen (57.6 min of read CMU ARCTIC prompts, one US-English female voice, CC0) and
# FSDD (3,000 spoken digits, 6 speakers, CC BY-SA 4.0) as one ASR corpus:
#   data/train          Kathleen train prompts (1,032) + FSDD's official training takes 5-44
#                       of all six speakers (the default model)
#   data/dev            Kathleen dev (50) + FSDD takes 45-49
#   data/train_heldout, data/dev_heldout
#                       the same without the held-out FSDD speaker (the speaker-independence
#                       experiment: run.sh --train_set train_heldout --valid_set dev_heldout)
#   data/test_fsdd      FSDD's official test split (takes 0-4 of all six speakers)
#   data/test_fsdd_spk  every take of the held-out speaker (500)
#   data/test_kathleen  the last 50 Kathleen prompts (the TTS recipe's test set)
# Kathleen text becomes lower-case words (punctuation removed, apostrophes kept) to share
# FSDD's vocabulary of letters.
#
# Usage, from egs/kathleen_fsdd/asr1:  local/data.sh [--kathleen DIR] [--fsdd DIR] [--held_out_speaker SPK]
#   defaults: the project's shared/data/kathleen and shared/data/fsdd beside the checkout; theo
# Environment: PYTHON, the interpreter (default: python).
set -euo pipefail

recipe_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
repo_root=$(cd "$recipe_dir/../../.." && pwd)
kathleen=$repo_root/../shared/data/kathleen
fsdd=$repo_root/../shared/data/fsdd
held_out=theo
while [ $# -gt 0 ]; do
    case $1 in
        --kathleen) kathleen=${2:?"$0: --kathleen needs a directory"}; shift 2 ;;
        --fsdd) fsdd=${2:?"$0: --fsdd needs a directory"}; shift 2 ;;
        --held_out_speaker) held_out=${2:?"$0: --held_out_speaker needs a name"}; shift 2 ;;
        *) echo "$0: unknown option $1 (--kathleen DIR, --fsdd DIR, --held_out_speaker SPK)" >&2; exit 2 ;;
    esac
done
export PYTHONPATH="${repo_root}${PYTHONPATH:+:${PYTHONPATH}}"
py() { "${PYTHON:-python}" "$@"; }

rm -rf data/local && mkdir -p data/local
py -m spikespeech.data.corpora kathleen --data_dir "$kathleen" --out data/local/kathleen --asr_text
py -m spikespeech.data.corpora fsdd --data_dir "$fsdd" --out data/local/fsdd \
    --held_out_speaker "$held_out" --sets train dev test test_spk
for s in train dev; do
    py -m spikespeech.data.datadir combine --overwrite data/$s data/local/kathleen/$s data/local/fsdd/$s
done
# the held-out-speaker experiment: FSDD speakers other than the held-out one
cut -d' ' -f1 data/local/fsdd/train/spk2utt | grep -vx "$held_out" > data/local/fsdd_speakers
for s in train dev; do
    py -m spikespeech.data.datadir subset --spk-list data/local/fsdd_speakers \
        data/local/fsdd/$s data/local/fsdd_seen_$s
    py -m spikespeech.data.datadir combine --overwrite data/${s}_heldout data/local/kathleen/$s \
        data/local/fsdd_seen_$s
done
py -m spikespeech.data.datadir combine --overwrite data/test_fsdd data/local/fsdd/test
py -m spikespeech.data.datadir combine --overwrite data/test_fsdd_spk data/local/fsdd/test_spk
py -m spikespeech.data.datadir combine --overwrite data/test_kathleen data/local/kathleen/test
for s in train dev train_heldout dev_heldout test_fsdd test_fsdd_spk test_kathleen; do
    echo "data/$s: $(wc -l < data/$s/text) utterances"
done
