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
repo_root=$(cd "${recipe_dir}/../../.." && pwd)
data_dir=downloads
download=false
opts=()
while [ $# -gt 0 ]; do
    case $1 in
        --data_dir) data_dir=${2:?"$0: --data_dir needs a value"}; shift 2 ;;
        --download) download=${2:?"$0: --download needs true or false"}; shift 2 ;;
        *) opts+=("$1"); shift ;;
    esac
done
case ${download} in
    true) opts+=(--download) ;;
    false) ;;
    *) echo "$0: --download must be true or false, not '${download}'" >&2; exit 2 ;;
esac

export PYTHONPATH="${repo_root}${PYTHONPATH:+:${PYTHONPATH}}"
exec "${PYTHON:-python}" -m spikespeech.data.corpora librispeech --out data --data_dir "${data_dir}" \
    ${opts[@]+"${opts[@]}"}
