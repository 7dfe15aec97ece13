#!/usr/bin/env bash
# Intelligibility on sentences nobody recorded (issue 17's second test set): `spikespeech
# synthesize`, the command users run, reads local/everyday_sentences.txt (36 sentences of our
# own, in no training text: tests/recipes/test_everyday_sentences.py), and
# spikespeech.recipe.tts_score gives the Whisper base and PocketSphinx WER of the result.
# Usage, from egs/kathleen_teacher/tts1:
#   local/score_everyday.sh [--model PACK] [--speaker NAME] [--out DIR]
#   --model    packed TTS model (default: the shipped default voice)
#   --speaker  speaker of a multi-speaker pack (default: the pack's default)
#   --out      output dir (default exp/everyday/<pack name>): wav/<id>.wav, score/scores.json
# Environment: PYTHON, the interpreter (default: the checkout's .venv, else python3).
set -euo pipefail
model=
speaker=
out=
while [ $# -gt 0 ]; do
    case $1 in
        --model) model=${2:?"$0: --model needs a value"}; shift 2 ;;
        --speaker) speaker=${2:?"$0: --speaker needs a value"}; shift 2 ;;
        --out) out=${2:?"$0: --out needs a value"}; shift 2 ;;
        *) echo "$0: unknown option $1" >&2; exit 2 ;;
    esac
done
recipe_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
repo_root=$(cd "$recipe_dir/../../.." && pwd)
export PYTHONPATH="$repo_root${PYTHONPATH:+:$PYTHONPATH}"
python=${PYTHON:-}
[ -n "$python" ] || { [ -x "$repo_root/.venv/bin/python" ] && python=$repo_root/.venv/bin/python; } || python=python3
sentences=$recipe_dir/local/everyday_sentences.txt
name=$(basename "${model:-default}"); name=${name%.zip}
out=${out:-$recipe_dir/exp/everyday/$name}
[ -z "$model" ] || [ -e "$model" ] || { echo "$0: $model: no such pack" >&2; exit 2; }
rm -rf "$out/numbered" && mkdir -p "$out/numbered" "$out/wav"
opts=(${model:+--model "$model"} ${speaker:+--speaker "$speaker"})
# exit status 1: some lines not synthesized (each named on stderr); tts_score lists them as missing
status=0
cut -d' ' -f2- "$sentences" | "$python" -m spikespeech.cli.main synthesize "${opts[@]}" --text-file - \
    -o "$out/numbered" --no-progress || status=$?
[ "$status" -le 1 ] || exit "$status"
# numbered files follow the lines: 0001.wav is the first sentence's id
rm -f "$out"/wav/*.wav  # no stale wav of an earlier run may stand in for a skipped line
n=0
while read -r id _; do
    n=$((n + 1))
    wav=$out/numbered/$(printf %04d "$n").wav
    [ ! -f "$wav" ] || mv "$wav" "$out/wav/$id.wav"
done < "$sentences"
rmdir "$out/numbered"
"$python" -m spikespeech.recipe.tts_score --syn_dir "$out/wav" --text "$sentences" \
    --out_dir "$out/score" --asr whisper,pocketsphinx
