#!/usr/bin/env bash
# Prepare the yesno corpus as Kaldi data dirs: data/train_nodev, data/train_dev, data/test_yesno.
#
# Usage, from egs/yesno/asr1:  local/data.sh [--data_dir DIR] [--download true|false] [options]
#   --data_dir DIR          a folder holding waves_yesno/ (the 60 wavs) or waves_yesno.tar.gz
#                           (default: ../../../../shared/data/yesno relative to the recipe
#                           dir, the shared copy beside the checkout, if it exists; else downloads)
#   --download true|false   true: fetch missing archives into DIR, from openslr.org (resource 1)
#                           (default: false); data already on disk is never downloaded
#   other options           passed on to `python -m spikespeech.data.corpora yesno`:
#                           --n_train N, --n_dev N
# Environment: PYTHON, the interpreter (default: python). Missing data: exit status 2 with one line
# naming the missing files, where to put them and their URL.
# Corpus licence: CC BY 4.0 (OpenSLR 1); keep its attribution with derived data.
set -euo pipefail

recipe_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
exec bash "$recipe_dir/../../../recipes/prepare_corpus.sh" yesno "$recipe_dir/../../../../shared/data/yesno" "$@"
