#!/usr/bin/env bash
# Kathleen's voice (CC0) learned with sequence-level distillation, in two phases:
#  1. a Piper teacher voice reads 4,000 LJ Speech transcripts (local/data.sh, `uv sync --extra
#     teacher`) and one two-speaker SpikeVoice (the student) learns the teacher's consistent speech
#     together with Kathleen's 57 minutes (--pretrain_config; all stages, its own pack);
#  2. the student's weights are fine-tuned on Kathleen's recordings alone (--finetune_config;
#     stages 6-10, tts.sh --train_speakers kathleen --pretrained_model): the shipped pack
#     (exp/tts_finetune_spikevoice_imls_small_kathleen/model.zip).
# Test: her last 50 CMU ARCTIC prompts, as egs/kathleen/tts1, scored by Whisper base and
# PocketSphinx. --stage/--stop_stage count in tts.sh's stages: phase 2 runs the selected stages
# from 6 on. --finetune_config none stops after phase 1. Other options: ../../../recipes/tts.sh --help.
# Phase 2's card lists the student's test scores and, once the ANN twin's phase 2 has been
# scored (README: the reference row), the twin's: `./run.sh --stage 10` after the twin adds them.
set -euo pipefail
cd "$(dirname "$0")"
pretrain_config=conf/train_spikevoice_imls_small.yaml
finetune_config=conf/finetune_spikevoice_imls_small_kathleen.yaml
stage=1
stop_stage=100
expdir=exp
args=()
while [ $# -gt 0 ]; do
    case $1 in  # --name=value as --name value, as tts.sh reads them
        --*=*) set -- "${1%%=*}" "${1#*=}" "${@:2}" ;;
        --pretrain_config|--finetune_config|--stage|--stop_stage|--expdir)
            [ $# -ge 2 ] || { echo "$0: $1 needs a value" >&2; exit 2; }
            printf -v "${1#--}" '%s' "$2"; shift 2 ;;
        --tts_config) echo "$0: give --pretrain_config and --finetune_config (or --finetune_config none)" >&2; exit 2 ;;
        --tts_tag) echo "$0: --tts_tag would give both phases one experiment dir; the configs' names tag them" >&2; exit 2 ;;
        --help|-h) sed -n '2,/^set -euo pipefail/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) args+=("$1"); shift ;;
    esac
done
tts=(../../../recipes/tts.sh --train_set train --valid_set dev --test_sets "test"
     --fs 16000 --language en --use_sid true --nj 2 --inference_nj 2
     --score_asr whisper,pocketsphinx --expdir "$expdir")
"${tts[@]}" --tts_config "$pretrain_config" --stage "$stage" --stop_stage "$stop_stage" "${args[@]}"
exp_of() { echo "$expdir/tts_$(basename "${1%.*}")"; }  # tts.sh's exp dir of a config
if [ "$finetune_config" != none ] && [ "$stop_stage" -ge 6 ]; then
    student=$(exp_of "$pretrain_config")
    related="--related $student"
    twin=$(exp_of conf/finetune_fastspeech2_ann_small_kathleen.yaml)
    if [ "$(exp_of "$finetune_config")" != "$twin" ] \
        && compgen -G "$twin/decode*/test/score/scores.json" > /dev/null; then
        related+=" --related $twin"
    fi
    "${tts[@]}" --tts_config "$finetune_config" --stage "$(( stage > 6 ? stage : 6 ))" \
        --stop_stage "$stop_stage" --train_speakers kathleen --pretrained_model "$student/valid.postnet_l1.ave.pth" \
        --model_card local/model_card_finetuned.md \
        --card_opts "$related" "${args[@]}"
fi
