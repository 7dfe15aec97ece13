#!/usr/bin/env bash
# spikespeech TTS recipe template (ESPnet-style stages; our own code, no Kaldi or ESPnet
# scripts needed). Run from a corpus recipe directory (egs/<corpus>/tts1), usually through
# its run.sh, which sets the corpus options and passes on yours:
#
#   ./run.sh [--stage N] [--stop_stage M] [--tts_config conf/train_fastspeech2_ann.yaml] ...
#
# Stages (each logged to exp/logs/stageN.NAME.log, training also to exp/<tag>/train.log as in
# ESPnet; a finished stage is skipped when run again with the same options, so an interrupted
# run resumes where it stopped; --redo true runs the selected stages again):
#    1  data preparation        local/data.sh → data/<set>/ (Kaldi dirs)
#    2  format / dump audio     resample to --fs, mono, validated → dump/raw/org/<set>/
#    3  filter                  too short/long utterances and empty text (train/valid sets)
#    4  phonemes + token list   offline text frontend (--language en|zh): text.words → text
#                               (phonemes); token list; speaker ids (--use_sid true)
#    5  statistics              ESPnet collect_stats: shapes, mel/pitch/energy mean/variance
#    6  train                   python -m spikespeech.bin.tts_train (resumes from checkpoint)
#    7  vocoder                 optional HiFi-GAN (--vocoder_config FILE); default Griffin-Lim
#    8  decode                  mels + wavs of each test set, --inference_nj jobs in parallel
#    9  score                   MCD (DTW), F0 RMSE, ASR-WER of synthesized vs real speech;
#                               exp/RESULTS.md
#   10  pack                    one .zip for `spikespeech synthesize --model`
#
# Multi-GPU and multi-node training: as in asr.sh (--ngpu, --num_nodes, --node_rank,
# --master_addr, --nproc_per_node).
set -euo pipefail

# ---- options (every one can be given as --name value) ---------------------------------------
stage=1
stop_stage=100
redo=false               # run selected stages even if they finished before
continue_training=false  # true: training with changed options (e.g. a larger max_epoch) resumes the
                         # experiment's last checkpoint instead of moving the old run aside
python=                  # interpreter; default: $PYTHON, else the checkout's .venv, else python3
nj=4                     # parallel jobs for dumping
inference_nj=2           # parallel synthesis jobs per test set
ngpu=0
num_nodes=1
node_rank=0
master_addr=localhost
master_port=29500
nproc_per_node=
expdir=exp
dumpdir=dump
local_data_opts=         # passed to local/data.sh
train_set=
valid_set=
test_sets=
fs=22050
audio_format=wav
min_wav_duration=0.5     # seconds; shorter/longer training utterances are dropped
max_wav_duration=15
language=en              # text frontend: en (espeak-ng phonemes) | zh (pinyin initials/finals)
use_sid=false            # multi-speaker: speaker-id embedding from utt2spk
tts_config=
tts_args=                # extra arguments for tts_train (e.g. "--max_epoch 5")
pretrained_model=        # weights to start training from (ESPnet's --init_param, e.g. fine-tuning:
                         # exp/<tag>/valid.postnet_l1.ave.pth); optimizer and schedule start afresh
train_speakers=          # train only on these speakers' utterances of --train_set (comma-separated, as
                         # in utt2spk), e.g. fine-tuning one voice of a multi-speaker model; the
                         # token list, speaker ids and normalisation stay those of the whole set
tts_tag=
inference_config=
inference_args=
inference_model=valid.postnet_l1.ave.pth
vocoder_config=          # HiFi-GAN config (stage 7); empty: Griffin-Lim
vocoder_args=
vocoder_tag=
vocoder_dir=             # an already trained HiFi-GAN dir to use instead of stage 7's
score_asr=               # recognizers for the intelligibility WER, comma-separated, the first
                         # headlined: pocketsphinx, whisper (extra: uv sync --extra whisper) | none
                         # (default: pocketsphinx for en, none otherwise)
energy_utts=10           # test utterances for the energy report (0: skip)
pack=true
model_card=              # the recipe's model-card text (default: local/model_card.md if it exists);
                         # stage 10 completes it with the measured results and packs it
card_opts=               # more options of spikespeech.recipe.model_card (e.g. "--related EXP")
intelligibility_bar=1.5  # the card says whether ASR-WER synthesized <= this x ASR-WER real

command_line="$0 $*"
recipe=tts.sh
# shellcheck source=recipes/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
parse_options "$@"

# ---- derived settings -------------------------------------------------------------------------
setup_python
require_options train_set valid_set test_sets tts_config
[ -n "$model_card" ] || [ ! -f local/model_card.md ] || model_card=local/model_card.md
require_files tts_config inference_config vocoder_config model_card
[ -z "$vocoder_dir" ] || [ -f "$vocoder_dir/generator.pth" ] || die "--vocoder_dir $vocoder_dir: no generator.pth there"
case "$language" in en|zh) ;; *) die "--language must be en or zh (got $language)" ;; esac
score_asr=${score_asr:-$( [ "$language" = en ] && echo pocketsphinx || echo none )}
for asr in ${score_asr//,/ }; do
    case "$asr" in pocketsphinx|whisper|none) ;;
        *) die "--score_asr: each recognizer must be pocketsphinx, whisper or none (got $asr)" ;; esac
done
require_bool redo "$redo"
require_bool continue_training "$continue_training"
require_bool use_sid "$use_sid"
require_counts "$nj" "$inference_nj" "$ngpu" "$num_nodes" "$node_rank"
[ "$nj" -ge 1 ] && [ "$inference_nj" -ge 1 ] || die "--nj and --inference_nj must be >= 1"
nproc_per_node=${nproc_per_node:-$(( ngpu > 1 ? ngpu : 1 ))}
config_fs=$("$python" -c '
import sys, yaml
c = yaml.safe_load(open(sys.argv[1])) or {}
print((c.get("feats_extract_conf") or {}).get("fs", ""))' "$tts_config")
[ "$config_fs" = "$fs" ] || die "$tts_config: feats_extract_conf.fs ($config_fs) differs from --fs $fs"

data_sets="$train_set $valid_set $test_sets"
token_dir=data/token_list/phn_$language
tts_tag=${tts_tag:-$(basename "${tts_config%.*}")}
tts_exp=$expdir/tts_$tts_tag
# collect_stats depends only on the feature extraction and the tokens: shared by configs
# whose extractors match (e.g. a spiking model and its ANN twin)
feats_tag=$("$python" -c '
import hashlib, json, sys, yaml
c = yaml.safe_load(open(sys.argv[1])) or {}
key = {k: c.get(k) for k in sorted(c) if k.split("_")[0] in ("feats", "pitch", "energy")}
print(hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:8])' "$tts_config")
tts_stats_dir=$expdir/stats/tts_phn_${language}_fs${fs}_${feats_tag}
if [ -n "$vocoder_config" ]; then
    vocoder_tag=${vocoder_tag:-$(basename "${vocoder_config%.*}")}
    vocoder_dir=$expdir/vocoder_$vocoder_tag
fi
inference_name=$(basename "${inference_config:-default}" .yaml)
inference_tag=decode_${inference_name#decode_}_${inference_model%.pth}_$(basename "${vocoder_dir:-griffin_lim}")
logdir=$expdir/logs
mkdir -p "$logdir"

# ---- stage bookkeeping --------------------------------------------------------------------------
stage_marker() {
    case $1 in
        1|2|3|4) echo "$dumpdir/.stages/stage$1.done" ;;
        5) echo "$tts_stats_dir/.stages/stage5.done" ;;
        7) echo "$expdir/.stages/stage7.vocoder_${vocoder_tag:-none}.done" ;;
        *) echo "$tts_exp/.stages/stage$1.done" ;;
    esac
}

model_key() {  # the model and vocoder that decoding uses, with the files' stamps
    echo "model=$inference_model@$(file_stamp "$(model_file 2>/dev/null)")" \
        "vocoder=$vocoder_dir@$(file_stamp "$vocoder_dir/generator.pth")"
}

stage_key() {
    case $1 in
        1) echo "sets=$data_sets opts=$local_data_opts" ;;
        2) echo "sets=$data_sets fs=$fs format=$audio_format" ;;
        3) echo "min=$min_wav_duration max=$max_wav_duration" ;;
        4) echo "language=$language sid=$use_sid" ;;
        5) echo "feats=$feats_tag train=$train_set sid=$use_sid" ;;
        6) echo "tts=$(config_sum "$tts_config") args=$tts_args language=$language sid=$use_sid$(
                [ -z "$pretrained_model" ] || printf " init=%s" "$pretrained_model@$(file_stamp "$pretrained_model")"
                [ -z "$train_speakers" ] || printf " speakers=%s" "$train_speakers")" ;;
        7) echo "vocoder=$(config_sum "$vocoder_config") args=$vocoder_args train=$train_set" ;;
        8|9) echo "sets=$test_sets inf=$(config_sum "$inference_config") args=$inference_args $(model_key) asr=$score_asr" ;;
        10) echo "$(model_key) card=$(config_sum "$model_card") bar=$intelligibility_bar opts=$card_opts" ;;
    esac
}

before_stage() {  # n marker: training again with other options starts afresh
    if [ "$1" = 6 ] && [ -d "$tts_exp" ] && [ "$continue_training" = false ]; then move_aside "$tts_exp"; fi
    if [ "$1" = 7 ] && [ -n "$vocoder_config" ] && [ -d "$vocoder_dir" ]; then move_aside "$vocoder_dir"; fi
}

declare -A stage_names=(
    [1]=data [2]=dump [3]=filter [4]=tokens [5]=stats [6]=train [7]=vocoder [8]=decode
    [9]=score [10]=pack
)

# ---- stages -------------------------------------------------------------------------------------
stage_1() { stage_data; }

stage_2() { stage_dump; }

stage_3() {
    local s
    for s in $train_set $valid_set; do
        py -m spikespeech.recipe.filter --min_sec "$min_wav_duration" --max_sec "$max_wav_duration" \
            "$dumpdir/raw/org/$s" "$dumpdir/raw/$s"
    done
    for s in $test_sets; do  # test sets are scored as they are
        copy_kaldi_files "$dumpdir/raw/org/$s" "$dumpdir/raw/$s"
    done
}

stage_4() {
    local s dir status
    for s in $data_sets; do
        dir=$dumpdir/raw/$s
        [ -f "$dir/text.words" ] || cp "$dir/text" "$dir/text.words"  # the transcript, kept for scoring
        # an utterance the frontend cannot read is reported and left out (exit status 1)
        status=0
        py -m spikespeech.text --language "$language" "$dir/text.words" "$dir/text" || status=$?
        [ "$status" -le 1 ] || return "$status"
        py -m spikespeech.data.datadir fix "$dir"
    done
    py -m spikespeech.recipe.tokens --token_type word --text "$dumpdir/raw/$train_set/text" --out "$token_dir"
    if [ "$use_sid" = true ]; then
        # as ESPnet's tts.sh: sid 0 is reserved for unknown speakers
        { echo "<unk> 0"; cut -d' ' -f2 "$dumpdir/raw/$train_set/utt2spk" | sort -u | awk '{print $1 " " NR}'; } \
            > "$dumpdir/raw/$train_set/spk2sid"
        for s in $data_sets; do
            awk 'NR == FNR { sid[$1] = $2; next } { print $1 " " (($2 in sid) ? sid[$2] : 0) }' \
                "$dumpdir/raw/$train_set/spk2sid" "$dumpdir/raw/$s/utt2spk" > "$dumpdir/raw/$s/utt2sid"
        done
    fi
}

tts_data_args() {  # prefix(train|valid) set
    echo "--${1}_data_path_and_name_and_type $dumpdir/raw/$2/text,text,text"
    echo "--${1}_data_path_and_name_and_type $dumpdir/raw/$2/wav.scp,speech,sound"
    [ "$use_sid" = false ] || echo "--${1}_data_path_and_name_and_type $dumpdir/raw/$2/utt2sid,sids,text_int"
}

token_args() {
    echo --token_type phn --g2p none --cleaner none --token_list "$token_dir/tokens.txt"
}

sid_args() {
    [ "$use_sid" = false ] || echo --tts_conf "spks=$(wc -l < "$dumpdir/raw/$train_set/spk2sid")"
}

stage_5() {
    # shellcheck disable=SC2046
    py -m spikespeech.bin.tts_train --collect_stats true --use_preprocessor true $(token_args) \
        $(tts_data_args train "$train_set") $(tts_data_args valid "$valid_set") $(sid_args) \
        --train_shape_file "$dumpdir/raw/$train_set/wav.scp" \
        --valid_shape_file "$dumpdir/raw/$valid_set/wav.scp" \
        --config "$tts_config" --normalize none --pitch_normalize none --energy_normalize none \
        --ngpu 0 --num_workers 0 --output_dir "$tts_stats_dir"
    local vocab s
    vocab=$(wc -l < "$token_dir/tokens.txt")
    for s in train valid; do
        awk -v V="$vocab" '{ print $1 " " $2 "," V }' "$tts_stats_dir/$s/text_shape" \
            > "$tts_stats_dir/$s/text_shape.phn"
    done
}

normalize_args() {
    local stats=$tts_stats_dir/train
    echo --normalize global_mvn --normalize_conf "stats_file=$stats/feats_stats.npz"
    [ ! -f "$stats/pitch_stats.npz" ] || echo --pitch_normalize global_mvn --pitch_normalize_conf "stats_file=$stats/pitch_stats.npz"
    [ ! -f "$stats/energy_stats.npz" ] || echo --energy_normalize global_mvn --energy_normalize_conf "stats_file=$stats/energy_stats.npz"
}

train_shapes() {  # dir: the train set's shape files, only --train_speakers' utterances if given
    local f spk shapes=$tts_stats_dir/train utt2spk=$dumpdir/raw/$train_set/utt2spk
    if [ -n "$train_speakers" ]; then
        for spk in ${train_speakers//,/ }; do
            awk -v s="$spk" '$2 == s { found = 1; exit } END { exit !found }' "$utt2spk" \
                || die "--train_speakers $train_speakers: $spk has no utterance in $utt2spk"
        done
        shapes=$tts_exp/train_shapes
        mkdir -p "$shapes"
        for f in text_shape.phn speech_shape; do
            awk -v S="$train_speakers" 'BEGIN { n = split(S, a, ","); for (i = 1; i <= n; i++) want[a[i]] = 1 }
                NR == FNR { if ($2 in want) keep[$1] = 1; next } $1 in keep' \
                "$utt2spk" "$tts_stats_dir/train/$f" > "$shapes/$f"
        done
        log "--train_speakers $train_speakers: $(wc -l < "$shapes/speech_shape") training utterances" >&2
    fi
    echo "$shapes"
}

stage_6() {
    local launcher dist shapes init=()
    set_launcher spikespeech.bin.tts_train
    if [ -n "$pretrained_model" ]; then
        [ -f "$pretrained_model" ] || die "--pretrained_model $pretrained_model: no such file (train it first)"
        init=(--init_param "$pretrained_model")
    fi
    mkdir -p "$tts_exp"
    shapes=$(train_shapes)
    local start=$SECONDS
    # shellcheck disable=SC2046,SC2086
    "${launcher[@]}" --use_preprocessor true $(token_args) \
        $(tts_data_args train "$train_set") $(tts_data_args valid "$valid_set") $(sid_args) \
        --train_shape_file "$shapes/text_shape.phn" --train_shape_file "$shapes/speech_shape" \
        "${init[@]}" \
        --valid_shape_file "$tts_stats_dir/valid/text_shape.phn" \
        --valid_shape_file "$tts_stats_dir/valid/speech_shape" \
        --fold_length 150 --fold_length 204800 \
        --config "$tts_config" $(normalize_args) "${dist[@]}" \
        --resume true --output_dir "$tts_exp" $tts_args 2>&1 | tee -a "$tts_exp/train.log"
    py -m spikespeech.recipe.model_info --exp "$tts_exp" --train_seconds "$(( SECONDS - start ))" \
        --out "$tts_exp/model_info.json"
}

stage_7() {
    if [ -z "$vocoder_config" ]; then
        log "no --vocoder_config: synthesis uses ${vocoder_dir:-Griffin-Lim}"
        return 0
    fi
    # shellcheck disable=SC2086
    py -m spikespeech.bin.vocoder_train --config "$vocoder_config" --fs "$fs" \
        --train_wav_scp "$dumpdir/raw/$train_set/wav.scp" --valid_wav_scp "$dumpdir/raw/$valid_set/wav.scp" \
        --output_dir "$vocoder_dir" --resume true $vocoder_args
}

model_file() {
    local f=$tts_exp/$inference_model
    if [ ! -e "$f" ] && [ -e "$tts_exp/valid.postnet_l1.best.pth" ]; then f=$tts_exp/valid.postnet_l1.best.pth; fi
    [ -e "$f" ] || { echo "$tts_exp/$inference_model: not found (train first: stage 6)" >&2; return 1; }
    echo "$f"
}

stage_8() {
    local model s dir i pids=() conf=() vocoder=() sids=()
    model=$(model_file)
    [ -z "$inference_config" ] || conf=(--config "$inference_config")
    [ -z "$vocoder_dir" ] || vocoder=(--vocoder_file "$vocoder_dir/generator.pth" --vocoder_config "$vocoder_dir/config.yaml")
    for s in $test_sets; do
        dir=$tts_exp/$inference_tag/$s
        rm -rf "$dir" && mkdir -p "$dir/split"
        [ "$use_sid" = false ] || sids=(--data_path_and_name_and_type "$dumpdir/raw/$s/utt2sid,sids,text_int")
        split_keys "$dumpdir/raw/$s/text" "$dir/split"
        pids=()
        for i in "$dir"/split/keys.*; do
            # shellcheck disable=SC2086
            py -m spikespeech.bin.tts_inference "${conf[@]}" --ngpu 0 \
                --data_path_and_name_and_type "$dumpdir/raw/$s/text,text,text" "${sids[@]}" \
                --key_file "$i" --train_config "$tts_exp/config.yaml" --model_file "$model" \
                "${vocoder[@]}" --output_dir "$i.out" $inference_args > "$i.log" 2>&1 &
            pids+=($!)
        done
        for i in "${!pids[@]}"; do
            wait "${pids[$i]}" || { echo "synthesis job $i of $s failed; see $dir/split/" >&2; return 1; }
        done
        mkdir -p "$dir/wav"
        for i in "$dir"/split/keys.*.out; do
            mv "$i"/wav/*.wav "$dir/wav/"
            cat "$i/durations/durations" >> "$dir/durations"
        done
        log "$s: $(find "$dir/wav" -name '*.wav' | wc -l) wavs in $dir/wav"
    done
}

stage_9() {
    local s dir model
    model=$(model_file)
    for s in $test_sets; do
        dir=$tts_exp/$inference_tag/$s
        py -m spikespeech.recipe.tts_score --ref_scp "$dumpdir/raw/$s/wav.scp" --syn_dir "$dir/wav" \
            --text "$dumpdir/raw/$s/text.words" --asr "$score_asr" --out_dir "$dir/score"
        if [ "$energy_utts" -gt 0 ]; then
            py -m spikespeech.recipe.energy --tts_config "$tts_exp/config.yaml" --model_file "$model" \
                --data_dir "$dumpdir/raw/$s" --max_utts "$energy_utts" --out "$dir/energy.json"
        fi
    done
    write_results tts_
}

stage_10() {
    if [ "$pack" != true ]; then
        log "--pack false: nothing to do"
        return 0
    fi
    local model extra=()
    model=$(model_file)
    [ -z "$vocoder_dir" ] || extra+=(--vocoder "$vocoder_dir")
    [ "$use_sid" = false ] || extra+=(--spk2sid "$dumpdir/raw/$train_set/spk2sid")
    # shellcheck disable=SC2046
    py -m spikespeech.cli.main pack --tts-config "$tts_exp/config.yaml" --model "$model" \
        --language "$language" "${extra[@]}" -o "$tts_exp/model.zip" \
        $(model_card_args "$tts_exp" --bar "$intelligibility_bar")
    log "packed model: $tts_exp/model.zip (spikespeech synthesize --model $tts_exp/model.zip \"TEXT\" -o out.wav)"
}

log "$command_line"
log "recipe $(pwd): train=$train_set valid=$valid_set test=[$test_sets] config=$tts_config exp=$tts_exp"
run_stages
log "all requested stages finished"
