#!/usr/bin/env bash
# Prepare the mini_an4 corpus as Kaldi data dirs: data/train_nodev, data/train_dev, data/test.
#
# Usage, from egs/mini_an4/asr1:  local/data.sh [--data_dir DIR] [--download true|false] [options]
#   --data_dir DIR          a folder holding ESPnet's downloads.tar.gz (extracted into
#                           ./downloads/an4) or an4/
#                           (default: ../../../../shared/data/mini_an4 relative to the recipe
#                           dir, the shared copy beside the checkout, if it exists; else downloads)
#   --download true|false   true: fetch missing archives into DIR, from the ESPnet repository
#                           (default: false); data already on disk is never downloaded
#   other options           passed on to `python -m spikespeech.data.corpora mini_an4`:
#                           --n_dev N
# Environment: PYTHON, the interpreter (default: python). Missing data: exit status 2 with one line
# naming the missing files, where to put them and their URL.
# Corpus licence: CMU BSD-style (an4/LICENSE inside the archive); keep its attribution with derived data.
set -euo pipefail

recipe_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
exec bash "$recipe_dir/../../../recipes/prepare_corpus.sh" mini_an4 "$recipe_dir/../../../../shared/data/mini_an4" --work_dir . "$@"
