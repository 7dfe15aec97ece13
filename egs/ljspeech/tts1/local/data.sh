#!/usr/bin/env bash
# Prepare LJSpeech as Kaldi data dirs: data/train, data/dev, data/test.
#
# Usage, from egs/ljspeech/tts1:  local/data.sh [--data_dir DIR] [--download true|false] [options]
#   --data_dir DIR          LJSpeech-1.1/ (metadata.csv + wavs/), a folder holding it or its
#                           LJSpeech-1.1.tar.bz2 (default: ../../../../shared/data/ljspeech_subset
#                           relative to the recipe dir, the 32-clip subset beside the checkout,
#                           if it exists; else ./downloads)
#   --download true|false   true: fetch the 2.6 GB archive into DIR (default: false); data
#                           already on disk is never downloaded
#   other options           passed on to `python -m spikespeech.data.corpora ljspeech`
#                           (--n_dev N --n_test N for corpora without the standard split)
# Environment: PYTHON, the interpreter (default: python). Missing data: exit status 2 with one line
# naming the missing files, where to put them and their URL.
# Corpus licence: public domain (LJ Speech Dataset, Keith Ito and Linda Johnson, 2017).
set -euo pipefail

recipe_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
exec bash "$recipe_dir/../../../recipes/prepare_corpus.sh" ljspeech "$recipe_dir/../../../../shared/data/ljspeech_subset" --work_dir . "$@"
