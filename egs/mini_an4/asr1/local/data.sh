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
repo_root=$(cd "${recipe_dir}/../../.." && pwd)
shared=$(cd "${recipe_dir}/../../../../shared/data/mini_an4" 2>/dev/null && pwd) || shared=
data_dir=${shared:-downloads}
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
exec "${PYTHON:-python}" -m spikespeech.data.corpora mini_an4 --out data --data_dir "${data_dir}" \
    --work_dir . ${opts[@]+"${opts[@]}"}
