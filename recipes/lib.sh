# Shared machinery of the recipe templates (asr.sh, tts.sh); sourced, not run.
#
# The sourcing script sets `recipe` (its name for messages), declares its options as shell
# variables with defaults, then calls `parse_options "$@"` and `setup_python`. It defines
# `stage_N` functions, `stage_names` (N → name), `stage_marker N` (the file that records
# a finished stage) and `stage_key N` (the options the stage depends on), and optionally
# `before_stage N MARKER` (called before a stage that ran before is run again), then
# calls `run_stages`.

log() { echo "$(date '+%Y-%m-%dT%H:%M:%S') ($recipe) $*"; }
die() { echo "$recipe: error: $*" >&2; exit 2; }

# --name value / --name=value → the shell variable `name` (which must be declared): Kaldi's
# utils/parse_options.sh convention (dashes read as underscores, unknown options refused). Not
# Kaldi's file itself: pip's espnet does not ship utils/, and vendoring it would add its
# `--config FILE` sourcing, which our recipes replace with their YAML configs.
parse_options() {
    local name value
    while [ $# -gt 0 ]; do
        case "$1" in
            --help|-h) sed -n '2,/^set -euo pipefail/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
            --*=*) name="${1%%=*}"; value="${1#*=}"; shift ;;
            --*) [ $# -ge 2 ] || die "option $1 needs a value"; name="$1"; value="$2"; shift 2 ;;
            *) die "unexpected argument '$1' (options are --name value)" ;;
        esac
        name="${name#--}"; name="${name//-/_}"
        [[ "$name" =~ ^[a-z_0-9]+$ ]] && declare -p "$name" >/dev/null 2>&1 \
            || die "unknown option --${name}"
        printf -v "$name" '%s' "$value"
    done
}

# `python`: --python, else $PYTHON, else the checkout's .venv, else python3; the checkout
# goes on PYTHONPATH so that `python -m spikespeech…` works without installing
setup_python() {
    recipe_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    if [ -z "$python" ]; then
        if [ -n "${PYTHON:-}" ]; then python=$PYTHON
        elif [ -x "$recipe_root/.venv/bin/python" ]; then python=$recipe_root/.venv/bin/python
        else python=python3; fi
    fi
    export PYTHON=$python
    export PYTHONPATH="$recipe_root${PYTHONPATH:+:$PYTHONPATH}"
}

py() { "$python" "$@"; }

require_bool() {  # name value
    case "$2" in true|false) ;; *) die "--$1 must be true or false (got $2)" ;; esac
}

require_counts() {  # values that must be non-negative integers
    local n
    for n in "$@"; do
        [[ "$n" =~ ^[0-9]+$ ]] || die "job/GPU/node counts must be non-negative integers (got '$n')"
    done
}

require_options() {  # option names that must be given
    local name
    for name in "$@"; do
        [ -n "${!name}" ] || die "--$name is required"
    done
}

require_files() {  # option names that, when given, must name an existing file
    local name
    for name in "$@"; do
        [ -z "${!name}" ] || [ -f "${!name}" ] || die "--$name ${!name}: no such file"
    done
}

config_sum() { cat "$@" 2>/dev/null | cksum | cut -d' ' -f1; }

# "size.mtime" of the file a path (or symlink) names, "-" when there is none: a stage key
# that holds it makes the stage run again when its input model was retrained (e.g. by
# --continue_training) although no option changed
file_stamp() { stat -L -c '%s.%Y' "$1" 2>/dev/null || echo -; }

copy_kaldi_files() {  # src dst: the table files of a dumped dir (audio stays where it is)
    mkdir -p "$2"
    local f
    for f in wav.scp text utt2spk spk2utt utt2num_samples fs text.words; do
        [ ! -f "$1/$f" ] || cp "$1/$f" "$2/$f"
    done
}

# Runs stages $stage..$stop_stage. A stage is skipped when its marker holds the same key
# (its options); markers are written only after the stage succeeded. Each stage's output is
# appended to $logdir/stageN.NAME.log.
run_stages() {
    local n name marker key start status
    [[ "$stage" =~ ^[0-9]+$ && "$stop_stage" =~ ^[0-9]+$ ]] \
        || die "--stage and --stop_stage must be stage numbers (got '$stage' and '$stop_stage')"
    for n in $(seq "$stage" "$stop_stage"); do
        declare -F "stage_$n" >/dev/null || continue
        name=${stage_names[$n]}
        marker=$(stage_marker "$n")
        key=$(stage_key "$n")
        if [ "$redo" = false ] && [ -f "$marker" ] && [ "$(cat "$marker")" = "$key" ]; then
            log "stage $n ($name): finished before with these options, skipped (--redo true to run it again)"
            continue
        fi
        log "stage $n: $name"
        if [ -f "$marker" ] && declare -F before_stage >/dev/null; then
            before_stage "$n" "$marker"
        fi
        start=$(date +%s)
        # not inside an `if`: bash ignores set -e in conditions, so a failing command
        # would not stop the stage
        set +e
        ( set -euo pipefail; "stage_$n" ) 2>&1 | tee -a "$logdir/stage$n.$name.log"
        status=${PIPESTATUS[0]}
        set -e
        if [ "$status" -ne 0 ]; then
            echo "$recipe: stage $n ($name) failed; log: $logdir/stage$n.$name.log" >&2
            exit 1
        fi
        mkdir -p "$(dirname "$marker")"
        echo "$key" > "$marker.tmp" && mv "$marker.tmp" "$marker"
        log "stage $n ($name) done in $(( $(date +%s) - start )) s"
    done
}

move_aside() {  # dir: a previous run with other options is kept beside the new one
    local old
    old=$1.old-$(date +%Y%m%d%H%M%S)
    mv "$1" "$old"
    log "options changed or --redo: previous run moved to $old"
}

# Distributed training launcher for ESPnet entry point module $1: sets `launcher` and
# `dist` arrays. One node and ngpu <= 1: plain; --ngpu N: ESPnet spawns one worker per GPU;
# several nodes (or --nproc_per_node > 1 on CPU): torchrun, one process per GPU/worker.
set_launcher() {
    launcher=("$python" -m "$1") dist=(--ngpu "$ngpu")
    if [ "$num_nodes" -gt 1 ] || { [ "$nproc_per_node" -gt 1 ] && [ "$ngpu" -le 1 ]; }; then
        launcher=("$python" -m torch.distributed.run --nnodes "$num_nodes" --node_rank "$node_rank"
                  --nproc_per_node "$nproc_per_node" --master_addr "$master_addr"
                  --master_port "$master_port" -m "$1")
        dist=(--ngpu "$(( ngpu > 0 ? 1 : 0 ))" --multiprocessing_distributed false
              --dist_init_method env:// --dist_backend "$( [ "$ngpu" -gt 0 ] && echo nccl || echo gloo )")
    elif [ "$ngpu" -gt 1 ]; then
        dist=(--ngpu "$ngpu" --multiprocessing_distributed true)
    fi
}

# ---- stages shared by the templates -------------------------------------------------------------
stage_data() {  # local/data.sh → data/<set>/ for each of $data_sets, validated
    [ -f local/data.sh ] || { echo "local/data.sh: not found in $(pwd)" >&2; return 1; }
    # shellcheck disable=SC2086
    bash local/data.sh $local_data_opts
    local s
    for s in $data_sets; do
        py -m spikespeech.data.datadir validate "data/$s"
    done
}

stage_dump() {  # data/<set> → $dumpdir/raw/org/<set>: decoded, mono, resampled to $fs
    local s
    for s in $data_sets; do
        py -m spikespeech.recipe.dump --fs "$fs" --nj "$nj" --audio_format "$audio_format" \
            "data/$s" "$dumpdir/raw/org/$s"
    done
}

split_keys() {  # table dir: split a Kaldi table into <= $inference_nj key files dir/keys.NNN
    local n njobs
    n=$(wc -l < "$1")
    (( n < inference_nj )) && njobs=$n || njobs=$inference_nj
    split -n "l/$njobs" -d -a 3 "$1" "$2/keys."
    find "$2" -name 'keys.*' -empty -delete  # split -n l/N may leave a chunk empty
}

# the pack stage's --card option, after writing EXP/MODEL_CARD.md from $model_card (the recipe's
# own text) and what was measured (spikespeech.recipe.model_card, with $card_opts); nothing
# without $model_card
model_card_args() {  # exp dir, [model_card options]
    [ -n "$model_card" ] || return 0
    local exp=$1
    shift
    # shellcheck disable=SC2086
    py -m spikespeech.recipe.model_card --exp "$exp" --about "$model_card" \
        --recipe "${PWD#"$recipe_root"/}" --out "$exp/MODEL_CARD.md" "$@" $card_opts >&2
    echo "--card $exp/MODEL_CARD.md"
}

write_results() {  # exp-dir prefix (asr_, tts_): exp/RESULTS.md over those experiments
    local exps=() d
    for d in "$expdir"/"$1"*/; do  # trainings moved aside by a rerun (*.old-DATE) are left out
        [[ "$d" == *.old-* ]] || exps+=("$d")
    done
    py -m spikespeech.recipe.results --out "$expdir/RESULTS.md" "${exps[@]}"
    log "results: $expdir/RESULTS.md"
}
