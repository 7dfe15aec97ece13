#!/usr/bin/env bash
# Shared body of egs/<corpus>/{asr1,tts1}/local/data.sh: prepare CORPUS as Kaldi data dirs data/<set>/
# in the current (recipe) directory.
#
# Usage: prepare_corpus.sh CORPUS DEFAULT_DATA_DIR [--data_dir DIR] [--download true|false] [options]
#   DEFAULT_DATA_DIR        used when --data_dir is not given and it exists; else ./downloads
#   --download true|false   true: fetch missing archives into the data dir (default: false);
#                           data already on disk is never downloaded
#   other options           passed on to `python -m spikespeech.data.corpora CORPUS`
# Environment: PYTHON, the interpreter (default: python). Missing data: exit status 2 with one
# line naming the missing files, where to put them and their URL.
set -euo pipefail

corpus=${1:?"usage: $0 CORPUS DEFAULT_DATA_DIR [options]"}
default_dir=${2:?"usage: $0 CORPUS DEFAULT_DATA_DIR [options]"}
shift 2
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
data_dir=$(cd "$default_dir" 2>/dev/null && pwd) || data_dir=downloads
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
exec "${PYTHON:-python}" -m spikespeech.data.corpora "$corpus" --out data --data_dir "${data_dir}" \
    ${opts[@]+"${opts[@]}"}
