#!/usr/bin/env bash
# spikespeech ASR recipe template (ESPnet-style stages; our own code, no Kaldi or ESPnet
# scripts needed). Run from a corpus recipe directory (egs/<corpus>/asr1), usually through
# its run.sh, which sets the corpus options and passes on yours:
#
#   ./run.sh [--stage N] [--stop_stage M] [--asr_config conf/train_asr_transformer.yaml] ...
#
# Stages (each logged to exp/logs/stageN.NAME.log, training also to exp/<tag>/train.log as in
# ESPnet; a finished stage is skipped when run again with the same options, so an interrupted
# run resumes where it stopped; --redo true runs the selected stages again):
#    1  data preparation        local/data.sh → data/<set>/ (Kaldi dirs)
#    2  format / dump audio     resample to --fs, mono, validated → dump/raw/org/<set>/
#    3  speed perturbation      of the training set (--speed_perturb_factors; skipped if empty)
#    4  filter                  too short/long utterances and empty text (train/valid sets)
#    5  token list              char, word or sentencepiece BPE (--token_type, --nbpe)
#    6  language model          optional (--use_lm true --lm_config ...)
#    7  statistics              ESPnet collect_stats: shapes and feature mean/variance
#    8  train                   python -m spikespeech.bin.asr_train (resumes from checkpoint)
#    9  decode                  beam search on each test set, --inference_nj jobs in parallel
#   10  score                   WER/CER, sclite-style alignments, energy; exp/RESULTS.md
#   11  pack                    one .zip for `spikespeech transcribe --model`
#
# Multi-GPU on one node: --ngpu N (ESPnet spawns one worker per GPU). Several nodes: run the
# same command on every node with --num_nodes K --node_rank i --master_addr HOST
# [--master_port P]; training then goes through torchrun (torch.distributed), one process
# per GPU. CPU-only data-parallel training (e.g. to test the setup): --ngpu 0
# --nproc_per_node 2 (gloo backend).
set -euo pipefail

# ---- options (every one can be given as --name value) ---------------------------------------
stage=1
stop_stage=100
redo=false               # run selected stages even if they finished before
continue_training=false  # true: training with changed options (e.g. a larger max_epoch) resumes the
                         # experiment's last checkpoint instead of moving the old run aside
python=                  # interpreter; default: $PYTHON, else the checkout's .venv, else python3
nj=4                     # parallel jobs for data preparation/dumping
inference_nj=4           # parallel decoding jobs per test set
ngpu=0
num_nodes=1
node_rank=0
master_addr=localhost
master_port=29500
nproc_per_node=          # processes per node for torch.distributed (default: max(ngpu, 1))
expdir=exp
dumpdir=dump
local_data_opts=         # passed to local/data.sh
train_set=
valid_set=
test_sets=
fs=16000
audio_format=wav
min_wav_duration=0.1     # seconds; shorter training utterances are dropped
max_wav_duration=20
max_text_ratio=          # optional: drop utterances with more than R characters per second
speed_perturb_factors=
token_type=char          # char | word | bpe
nbpe=30
bpemode=unigram
use_lm=false
lm_config=
lm_args=
lm_tag=
asr_config=
asr_args=                # extra arguments for asr_train (e.g. "--max_epoch 5")
asr_tag=
feats_normalize=global_mvn
inference_config=
inference_args=           # extra asr_inference arguments; e.g. "--decoding_mode attention_rescoring"
                         # (modes: attention [ESPnet's joint search, default], attention_rescoring,
                         # ctc_prefix_beam, ctc_greedy; or decoding_mode: in the inference config)
inference_model=valid.acc.ave.pth
energy_utts=50           # test utterances for the energy report (0: skip)
pack=true
model_card=              # the recipe's model-card text (default: local/model_card.md if it exists);
                         # stage 11 completes it with the measured results and packs it
card_opts=               # more options of spikespeech.recipe.model_card (e.g. "--related EXP")

command_line="$0 $*"
recipe=asr.sh
# shellcheck source=recipes/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
parse_options "$@"

# ---- derived settings -------------------------------------------------------------------------
setup_python
require_options train_set valid_set test_sets asr_config
[ -n "$model_card" ] || [ ! -f local/model_card.md ] || model_card=local/model_card.md
require_files asr_config inference_config model_card
case "$token_type" in char|word|bpe) ;; *) die "--token_type must be char, word or bpe (got $token_type)" ;; esac
require_bool redo "$redo"
require_bool continue_training "$continue_training"
if [ "$use_lm" = true ] && { [ -z "$lm_config" ] || [ ! -f "$lm_config" ]; }; then
    die "--use_lm true needs --lm_config FILE (got '${lm_config}')"
fi
require_counts "$nj" "$inference_nj" "$ngpu" "$num_nodes" "$node_rank"
[ "$nj" -ge 1 ] && [ "$inference_nj" -ge 1 ] || die "--nj and --inference_nj must be >= 1"
nproc_per_node=${nproc_per_node:-$(( ngpu > 1 ? ngpu : 1 ))}

data_sets="$train_set $valid_set $test_sets"
train_dump=$train_set
[ -z "$speed_perturb_factors" ] || train_dump=${train_set}_sp
if [ "$token_type" = bpe ]; then token_tag=bpe_${bpemode}${nbpe}; else token_tag=$token_type; fi
token_dir=data/token_list/$token_tag
asr_tag=${asr_tag:-$(basename "${asr_config%.*}")}
[ -z "$speed_perturb_factors" ] || asr_tag=${asr_tag}_sp
asr_exp=$expdir/asr_$asr_tag
# collect_stats depends only on the features and the tokens: shared by configs whose
# frontend matches (e.g. a spiking and an ANN config side by side)
frontend_tag=$("$python" -c '
import hashlib, json, sys, yaml
c = yaml.safe_load(open(sys.argv[1])) or {}
key = {k: c.get(k) for k in ("frontend", "frontend_conf")}
print(hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:8])' "$asr_config")
asr_stats_dir=$expdir/stats/asr_${token_tag}_fs${fs}_${frontend_tag}${speed_perturb_factors:+_sp}
[ -z "$lm_config" ] || lm_tag=${lm_tag:-$(basename "${lm_config%.*}")}
lm_exp=$expdir/lm_$lm_tag
lm_file=$lm_exp/valid.loss.ave.pth  # the LM that decoding uses
inference_name=$(basename "${inference_config:-default}" .yaml)
inference_tag=decode_${inference_name#decode_}_${inference_model%.pth}
logdir=$expdir/logs
mkdir -p "$logdir"

# ---- stage bookkeeping --------------------------------------------------------------------------
# A stage is done when its marker holds the same key (its options); markers are written
# only after the stage succeeded.
stage_marker() {
    case $1 in
        1|2|3|4|5) echo "$dumpdir/.stages/stage$1.done" ;;
        6) echo "$expdir/.stages/stage6.lm_${lm_tag:-none}.done" ;;
        7) echo "$asr_stats_dir/.stages/stage7.done" ;;
        *) echo "$asr_exp/.stages/stage$1.done" ;;
    esac
}

model_key() {  # the model that decoding uses, with its file's stamp
    echo "model=$inference_model@$(file_stamp "$(model_file 2>/dev/null)")"
}

stage_key() {
    case $1 in
        1) echo "sets=$data_sets opts=$local_data_opts" ;;
        2) echo "sets=$data_sets fs=$fs format=$audio_format" ;;
        3) echo "factors=$speed_perturb_factors" ;;
        4) echo "min=$min_wav_duration max=$max_wav_duration ratio=$max_text_ratio sp=$speed_perturb_factors" ;;
        5) echo "type=$token_type nbpe=$nbpe mode=$bpemode" ;;
        6) echo "lm=$(config_sum "$lm_config") args=$lm_args tokens=$token_tag" ;;
        7) echo "tokens=$token_tag train=$train_dump" ;;
        8) echo "asr=$(config_sum "$asr_config") args=$asr_args tokens=$token_tag" ;;
        9|10) echo "sets=$test_sets inf=$(config_sum "$inference_config") args=$inference_args $(model_key)" \
                   "lm=$use_lm@$(file_stamp "$lm_file")" ;;
        11) echo "$(model_key) card=$(config_sum "$model_card") opts=$card_opts" ;;
    esac
}

before_stage() {  # n marker: training again with other options starts afresh
    if [ "$1" = 8 ] && [ -d "$asr_exp" ] && [ "$continue_training" = false ]; then
        move_aside "$asr_exp"  # rather than resume the old checkpoint
    fi
}

declare -A stage_names=(
    [1]=data [2]=dump [3]=speed_perturb [4]=filter [5]=tokens [6]=lm [7]=stats [8]=train
    [9]=decode [10]=score [11]=pack
)

# ---- stages -------------------------------------------------------------------------------------
stage_1() { stage_data; }

stage_2() { stage_dump; }

stage_3() {
    if [ -z "$speed_perturb_factors" ]; then
        log "no --speed_perturb_factors: nothing to do"
        return 0
    fi
    # shellcheck disable=SC2086
    py -m spikespeech.recipe.perturb --factors $speed_perturb_factors \
        "$dumpdir/raw/org/$train_set" "$dumpdir/raw/org/${train_set}_sp"
}

stage_4() {
    local s ratio=()
    [ -z "$max_text_ratio" ] || ratio=(--max_text_ratio "$max_text_ratio")
    for s in $train_dump $valid_set; do
        py -m spikespeech.recipe.filter --min_sec "$min_wav_duration" --max_sec "$max_wav_duration" \
            "${ratio[@]}" "$dumpdir/raw/org/$s" "$dumpdir/raw/$s"
    done
    for s in $test_sets; do  # test sets are scored as they are
        copy_kaldi_files "$dumpdir/raw/org/$s" "$dumpdir/raw/$s"
    done
}

stage_5() {
    py -m spikespeech.recipe.tokens --token_type "$token_type" --nbpe "$nbpe" --bpemode "$bpemode" \
        --text "$dumpdir/raw/org/$train_set/text" --out "$token_dir"  # before speed perturbation
}

token_args() {
    echo --token_type "$token_type" --token_list "$token_dir/tokens.txt"
    [ "$token_type" != bpe ] || echo --bpemodel "$token_dir/bpe.model"
}

stage_6() {
    if [ "$use_lm" != true ]; then
        log "--use_lm false: nothing to do"
        return 0
    fi
    local text_args=(
        --train_data_path_and_name_and_type "$dumpdir/raw/$train_dump/text,text,text"
        --valid_data_path_and_name_and_type "$dumpdir/raw/$valid_set/text,text,text"
    )
    # shellcheck disable=SC2046
    py -m spikespeech.bin.lm_train --collect_stats true --use_preprocessor true $(token_args) \
        "${text_args[@]}" --train_shape_file "$dumpdir/raw/$train_dump/text" \
        --valid_shape_file "$dumpdir/raw/$valid_set/text" --config "$lm_config" --ngpu 0 \
        --output_dir "$lm_exp/stats"
    # shellcheck disable=SC2046,SC2086
    py -m spikespeech.bin.lm_train --use_preprocessor true $(token_args) "${text_args[@]}" \
        --train_shape_file "$lm_exp/stats/train/text_shape" \
        --valid_shape_file "$lm_exp/stats/valid/text_shape" --fold_length 150 \
        --config "$lm_config" --ngpu "$ngpu" --resume true --output_dir "$lm_exp" $lm_args \
        2>&1 | tee -a "$lm_exp/train.log"
}

asr_data_args() {  # prefix(train|valid) set
    echo "--${1}_data_path_and_name_and_type $dumpdir/raw/$2/wav.scp,speech,sound"
    echo "--${1}_data_path_and_name_and_type $dumpdir/raw/$2/text,text,text"
}

normalize_args() {
    if [ "$feats_normalize" = global_mvn ]; then
        echo --normalize global_mvn --normalize_conf "stats_file=$asr_stats_dir/train/feats_stats.npz"
    else
        echo --normalize "$feats_normalize"
    fi
}

stage_7() {
    # shellcheck disable=SC2046
    py -m spikespeech.bin.asr_train --collect_stats true --use_preprocessor true $(token_args) \
        $(asr_data_args train "$train_dump") $(asr_data_args valid "$valid_set") \
        --train_shape_file "$dumpdir/raw/$train_dump/wav.scp" \
        --valid_shape_file "$dumpdir/raw/$valid_set/wav.scp" \
        --config "$asr_config" --frontend_conf "fs=$fs" --normalize none --ngpu 0 \
        --num_workers 0 --output_dir "$asr_stats_dir"
    # as ESPnet's template: text shapes carry the vocabulary size, so that `numel` batches
    # weigh the output side the way ESPnet's published batch_bins assume
    local vocab s
    vocab=$(wc -l < "$token_dir/tokens.txt")
    for s in train valid; do
        awk -v V="$vocab" '{ print $1 " " $2 "," V }' "$asr_stats_dir/$s/text_shape" \
            > "$asr_stats_dir/$s/text_shape.$token_type"
    done
}

stage_8() {
    local launcher dist
    set_launcher spikespeech.bin.asr_train
    mkdir -p "$asr_exp"
    local start=$SECONDS
    # shellcheck disable=SC2046,SC2086
    "${launcher[@]}" --use_preprocessor true $(token_args) \
        $(asr_data_args train "$train_dump") $(asr_data_args valid "$valid_set") \
        --train_shape_file "$asr_stats_dir/train/speech_shape" \
        --train_shape_file "$asr_stats_dir/train/text_shape.$token_type" \
        --valid_shape_file "$asr_stats_dir/valid/speech_shape" \
        --valid_shape_file "$asr_stats_dir/valid/text_shape.$token_type" \
        --fold_length 80000 --fold_length 150 \
        --config "$asr_config" --frontend_conf "fs=$fs" $(normalize_args) "${dist[@]}" \
        --resume true --output_dir "$asr_exp" $asr_args 2>&1 | tee -a "$asr_exp/train.log"
    py -m spikespeech.recipe.model_info --exp "$asr_exp" --train_seconds "$(( SECONDS - start ))" \
        --out "$asr_exp/model_info.json"
}

model_file() {
    local f=$asr_exp/$inference_model
    if [ ! -e "$f" ] && [ -e "$asr_exp/valid.acc.best.pth" ]; then f=$asr_exp/valid.acc.best.pth; fi
    [ -e "$f" ] || { echo "$asr_exp/$inference_model: not found (train first: stage 8)" >&2; return 1; }
    echo "$f"
}

stage_9() {
    local model s dir i pids=() lm=()
    model=$(model_file)
    if [ "$use_lm" = true ]; then
        lm=(--lm_train_config "$lm_exp/config.yaml" --lm_file "$lm_file")
    fi
    local conf=()
    [ -z "$inference_config" ] || conf=(--config "$inference_config")
    for s in $test_sets; do
        dir=$asr_exp/$inference_tag/$s
        rm -rf "$dir/split" && mkdir -p "$dir/split"
        split_keys "$dumpdir/raw/$s/wav.scp" "$dir/split"
        pids=()
        for i in "$dir"/split/keys.*; do
            # shellcheck disable=SC2086
            py -m spikespeech.bin.asr_inference "${conf[@]}" --ngpu 0 --batch_size 1 \
                --data_path_and_name_and_type "$dumpdir/raw/$s/wav.scp,speech,sound" \
                --key_file "$i" --asr_train_config "$asr_exp/config.yaml" --asr_model_file "$model" \
                "${lm[@]}" --output_dir "$i.out" $inference_args > "$i.log" 2>&1 &
            pids+=($!)
        done
        for i in "${!pids[@]}"; do
            wait "${pids[$i]}" || { echo "decoding job $i of $s failed; see $dir/split/" >&2; return 1; }
        done
        cat "$dir"/split/keys.*.out/1best_recog/text | LC_ALL=C sort > "$dir/text.tmp"
        mv "$dir/text.tmp" "$dir/text"
        log "$s: $(wc -l < "$dir/text") hypotheses in $dir/text"
    done
}

stage_10() {
    local s dir model
    model=$(model_file)
    local conf=()  # decoded as stage 9 decodes (mode and beam options), metered per scope
    [ -z "$inference_config" ] || conf=(--inference_config "$inference_config")
    for s in $test_sets; do
        dir=$asr_exp/$inference_tag/$s
        py -m spikespeech.recipe.score --ref "$dumpdir/raw/$s/text" --hyp "$dir/text" \
            --token_type "$token_type" --out "$dir/score"
        if [ "$energy_utts" -gt 0 ]; then
            py -m spikespeech.recipe.energy --asr_config "$asr_exp/config.yaml" --model_file "$model" \
                --data_dir "$dumpdir/raw/$s" --max_utts "$energy_utts" --out "$dir/energy.json" \
                "${conf[@]}" --inference_args="$inference_args"
        fi
    done
    write_results asr_
}

stage_11() {
    if [ "$pack" != true ]; then
        log "--pack false: nothing to do"
        return 0
    fi
    local model
    model=$(model_file)
    # shellcheck disable=SC2046
    py -m spikespeech.cli.main pack --asr-config "$asr_exp/config.yaml" --model "$model" \
        $(model_card_args "$asr_exp") -o "$asr_exp/model.zip"
    log "packed model: $asr_exp/model.zip (spikespeech transcribe --model $asr_exp/model.zip AUDIO)"
}

log "$command_line"
log "recipe $(pwd): train=$train_set valid=$valid_set test=[$test_sets] config=$asr_config exp=$asr_exp"
run_stages
log "all requested stages finished"
