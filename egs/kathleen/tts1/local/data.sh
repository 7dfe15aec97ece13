#!/usr/bin/env bash
# Prepare the Kathleen voice as Kaldi data dirs: data/train (1,032 prompts), data/dev (50),
# data/test (the last 50 CMU ARCTIC prompts, arctic_b0490 ... arctic_b0539).
#
# Usage, from egs/kathleen/tts1:  local/data.sh [--data_dir DIR] [--n_dev N] [--n_test N]
#   --data_dir DIR   the kathleen/ folder (metadata.csv + flac/) (default: the project's
#                    shared/data/kathleen beside the checkout). It is not downloadable: copy it.
# Environment: PYTHON, the interpreter (default: python). Missing data: exit status 2 with one
# line naming the missing files.
# Corpus licence: CC0 1.0 (Kathleen voice, github.com/rhasspy/dataset-voice-cathy; the CMU
# ARCTIC prompts, Carnegie Mellon University).
set -euo pipefail

recipe_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
exec bash "$recipe_dir/../../../recipes/prepare_corpus.sh" kathleen "$recipe_dir/../../../../shared/data/kathleen" --work_dir . "$@"
