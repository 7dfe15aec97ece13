#!/usr/bin/env bash
# Prepare the librispeech corpus as Kaldi data dirs: data/train_960 (data/train_clean_100
#   with --variant 100), data/dev, data/dev_clean, data/dev_other, data/test_clean, data/test_other.
#
# Usage, from egs/librispeech/asr1:  local/data.sh [--data_dir DIR] [--download true|false] [options]
#   --data_dir DIR          a folder holding LibriSpeech/<subset>/ or the <subset>.tar.gz archives
#                           (default: downloads, inside the recipe dir)
#   --download true|false   true: fetch missing archives into DIR, from openslr.org (resource 12), MD5-checked
#                           (default: false); data already on disk is never downloaded
#   other options           passed on to `python -m spikespeech.data.corpora librispeech`:
#                           --variant 100|960, --sets SET ...
# Environment: PYTHON, the interpreter (default: python). Missing data: exit status 2 with one line
# naming the missing files, where to put them and their URL.
# Corpus licence: CC BY 4.0 (OpenSLR 12); keep its attribution with derived data.
set -euo pipefail

recipe_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
exec bash "$recipe_dir/../../../recipes/prepare_corpus.sh" librispeech downloads "$@"
