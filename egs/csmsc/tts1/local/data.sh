#!/usr/bin/env bash
# Prepare CSMSC (DataBaker BZNSYP) as Kaldi data dirs: data/train, data/dev, data/test.
#
# Usage, from egs/csmsc/tts1:  local/data.sh [--data_dir DIR] [options]
#   --data_dir DIR          the extracted BZNSYP/ (Wave/ + ProsodyLabeling/), a folder holding it
#                           (or ESPnet's name for it, CSMSC/) (default: ./downloads)
#   --download true|false   accepted for the common command line; the corpus cannot be
#                           downloaded automatically (registration at data-baker.com)
#   other options           passed on to `python -m spikespeech.data.corpora csmsc`:
#                           --n_dev N --n_test N (default 100 and 100, as ESPnet),
#                           --punctuation keep|espnet (default keep)
# Environment: PYTHON, the interpreter (default: python). Missing data: exit status 2 with one line
# naming what is missing, where to put it and where to get it.
# Corpus licence: DataBaker's terms, free for non-commercial use only (Chinese Standard Mandarin
# Speech Corpus, Databaker (Beijing) Technology Co., Ltd.).
set -euo pipefail

recipe_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
exec bash "$recipe_dir/../../../recipes/prepare_corpus.sh" csmsc "$recipe_dir/downloads" --work_dir . "$@"
