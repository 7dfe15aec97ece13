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
exec "${PYTHON:-python}" -m spikespeech.data.corpora aishell --out data --data_dir "${data_dir}" \
    ${opts[@]+"${opts[@]}"}
