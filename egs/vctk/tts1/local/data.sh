#!/usr/bin/env bash
# Prepare VCTK 0.92 as Kaldi data dirs: data/train, data/dev, data/test.
#
# Usage, from egs/vctk/tts1:  local/data.sh [--data_dir DIR] [--download true|false] [options]
#   --data_dir DIR          VCTK-Corpus-0.92/ (wav48_silence_trimmed/ + txt/), a folder holding it
#                           or VCTK-Corpus-0.92.zip (default: ./downloads)
#   --download true|false   true: fetch the 11 GB zip from Edinburgh DataShare into DIR
#                           (default: false); data already on disk is never downloaded
#   other options           passed on to `python -m spikespeech.data.corpora vctk`:
#                           --mic mic1|mic2, --n_dev N --n_test N (per speaker; default 5 and 5,
#                           as ESPnet), --held_out_speakers SPK... (test = unseen voices),
#                           --work_dir DIR (where the zip is extracted; default ./downloads)
# Environment: PYTHON, the interpreter (default: python). Missing data: exit status 2 with one line
# naming the missing files, where to put them and their URL.
# Corpus licence: CC BY 4.0 (Yamagishi, Veaux and MacDonald, "CSTR VCTK Corpus: English
# Multi-speaker Corpus for CSTR Voice Cloning Toolkit (version 0.92)", University of Edinburgh,
# 2019) — attribute it in derived work.
set -euo pipefail

recipe_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# the zip is extracted beside it in downloads/ (ignored by git), not into the recipe dir
exec bash "$recipe_dir/../../../recipes/prepare_corpus.sh" vctk "$recipe_dir/downloads" --work_dir downloads "$@"
