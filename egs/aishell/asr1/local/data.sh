#!/usr/bin/env bash
# Prepare the aishell corpus as Kaldi data dirs: data/train, data/dev, data/test.
#
# Usage, from egs/aishell/asr1:  local/data.sh [--data_dir DIR] [--download true|false] [options]
#   --data_dir DIR          a folder holding data_aishell/ or data_aishell.tgz
#                           (default: downloads, inside the recipe dir)
#   --download true|false   true: fetch missing archives into DIR, from openslr.org (resource 33), MD5-checked
#                           (default: false); data already on disk is never downloaded
#   other options           passed on to `python -m spikespeech.data.corpora aishell`:
#                           --sets SET ...
# Environment: PYTHON, the interpreter (default: python). Missing data: exit status 2 with one line
# naming the missing files, where to put them and their URL.
# Corpus licence: Apache-2.0 (OpenSLR 33); keep its attribution with derived data.
set -euo pipefail

recipe_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
exec bash "$recipe_dir/../../../recipes/prepare_corpus.sh" aishell downloads "$@"
