#!/usr/bin/env bash
# Prepare the fsdd corpus as Kaldi data dirs: data/train, data/dev, data/test and the
#   held-out-speaker sets data/train_spk, data/dev_spk, data/test_spk.
#
# Usage, from egs/fsdd/asr1:  local/data.sh [--data_dir DIR] [--download true|false] [options]
#   --data_dir DIR          a folder holding recordings/ (or the dataset's GitHub archive)
#                           (default: ../../../../shared/data/fsdd relative to the recipe
#                           dir, the shared copy beside the checkout, if it exists; else downloads)
#   --download true|false   true: fetch missing archives into DIR, from GitHub
#                           (default: false); data already on disk is never downloaded
#   other options           passed on to `python -m spikespeech.data.corpora fsdd`:
#                           --held_out_speaker NAME (default: theo)
# Environment: PYTHON, the interpreter (default: python). Missing data: exit status 2 with one line
# naming the missing files, where to put them and their URL.
# Corpus licence: CC BY-SA 4.0 (Jakobovski et al.); keep its attribution with derived data.
set -euo pipefail

recipe_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
exec bash "$recipe_dir/../../../recipes/prepare_corpus.sh" fsdd "$recipe_dir/../../../../shared/data/fsdd" "$@"
