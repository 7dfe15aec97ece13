#!/usr/bin/env bash
# What we run when a GPU is lent: the CUDA tests and the CUDA benchmarks, in one go.
#
#   cd <repo root> && OUT=./gpu-out bash bench/gpu_check.sh
#
# Needs python3 with torch (CUDA), numpy, pyyaml, pytest and hypothesis; no ESPnet, librosa or
# soundfile (the CUDA tests run without the suite's conftest). PYTHON overrides the
# interpreter. Every stage has its own timeout and a failing stage does not stop the others;
# the summary at the end lists each stage's status and time, and the key numbers from the
# JSON files. Everything printed is also in $OUT/log.txt. Exit status: the number of failed
# stages (0 = all passed). Takes about 2-3 minutes on an H200. The stages together never run
# longer than GPU_CHECK_BUDGET_S seconds (default 540, under a 10-minute device call): each
# stage's timeout is cut to what is left, 20 s being kept for the summary.
set -u

OUT=${OUT:-./gpu-out}
PY=${PYTHON:-python3}
mkdir -p "$OUT" || { echo "gpu_check: cannot create OUT=$OUT" >&2; exit 1; }
LOG="$OUT/log.txt"
: > "$LOG"
exec > >(tee -a "$LOG") 2>&1

export PYTHONPATH=".${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
SUMMARY=()
FAILED=0
DEADLINE=$((SECONDS + ${GPU_CHECK_BUDGET_S:-540}))

# stage NAME TIMEOUT_S CMD...: run CMD under timeout, record status and wall time.
stage() {
    local name=$1 limit=$2
    shift 2
    local left=$((DEADLINE - SECONDS - 20))  # 20 s kept for the summary, which always runs
    [ "$name" = summary ] && left=$limit
    echo
    if [ "$left" -lt 5 ]; then
        echo "=== $name: SKIPPED, the time budget is spent"
        FAILED=$((FAILED + 1))
        SUMMARY+=("$(printf '%-28s %-14s %5ss' "$name" "SKIPPED" 0)")
        return
    fi
    [ "$left" -lt "$limit" ] && limit=$left
    echo "=== $name (timeout ${limit}s): $*"
    local t0=$SECONDS rc=0
    timeout --kill-after=15 "$limit" "$@" || rc=$?
    local took=$((SECONDS - t0)) status=ok
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        status="TIMEOUT"
    elif [ "$rc" -ne 0 ]; then
        status="FAILED rc=$rc"
    fi
    [ "$status" = ok ] || FAILED=$((FAILED + 1))
    echo "=== $name: $status (${took}s)"
    SUMMARY+=("$(printf '%-28s %-14s %5ss' "$name" "$status" "$took")")
}

# json_stage NAME TIMEOUT_S FILE CMD...: like stage, stdout (one JSON object) to $OUT/FILE,
# written to a .part file first so that a failed run leaves no half-written JSON behind.
json_stage() {
    local name=$1 limit=$2 file=$3
    shift 3
    stage "$name" "$limit" bash -c '"$@" > "$0.part" && mv "$0.part" "$0"' "$OUT/$file" "$@"
    rm -f "$OUT/$file.part"
}

echo "gpu_check: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), repo $(pwd), OUT=$OUT"
echo "git: $(git rev-parse --short HEAD 2>/dev/null || echo '?') $(git status --porcelain 2>/dev/null | wc -l) changed paths"

stage "nvidia-smi" 30 nvidia-smi
stage "versions" 60 "$PY" -c '
import platform, sys, torch
print("python", sys.version.split()[0], platform.machine())
print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())
print("cuda available:", torch.cuda.is_available(), "devices:", torch.cuda.device_count())
for i in range(torch.cuda.device_count()):
    p = torch.cuda.get_device_properties(i)
    print(f"  cuda:{i} {p.name}, {p.total_memory / 2**30:.1f} GiB, sm {p.major}.{p.minor}")
sys.exit(0 if torch.cuda.is_available() else 1)'

# The CUDA tests compare with the CPU in float64 and train small models: about a minute. With
# SPIKESPEECH_REQUIRE_CUDA=1 they fail instead of skipping when CUDA is not usable.
stage "cuda tests" 300 env PYTHONPATH=".:tests:$PYTHONPATH" SPIKESPEECH_REQUIRE_CUDA=1 \
    "$PY" -m pytest --noconftest \
    -p no:cacheprovider -q -rs --durations=10 --junitxml="$OUT/test_cuda.xml" tests/test_cuda.py

# Encoder training step, IMLS vs LIF-T4 vs ANN: the default shape (B 8, L 300) and a GPU-sized
# batch (B 32, L 500); more repeats than on the CPU, the steps take milliseconds.
json_stage "train_step default" 180 train_step_default.json \
    "$PY" bench/train_step.py --device cuda --json --repeats 20 --warmup 3
json_stage "train_step B32 L500" 180 train_step_b32_l500.json \
    "$PY" bench/train_step.py --device cuda --json --repeats 20 --warmup 3 --batch 32 --frames 500

# Where a step's GPU time goes: torch.profiler tables (top ops by self CUDA time).
stage "profile imls" 120 bash -c '"$@" > "$0"' "$OUT/profile_imls.txt" \
    "$PY" bench/train_step.py --device cuda --profile imls --profile-rows 30
stage "profile lif" 120 bash -c '"$@" > "$0"' "$OUT/profile_lif.txt" \
    "$PY" bench/train_step.py --device cuda --profile lif --profile-rows 30

# SpikeVoice training steps (forward + backward + Adam), small and full-size configs, spiking vs
# ANN twin, B 16, 150 tokens, 600 frames; once with the learned aligner (MAS runs on the CPU),
# once with forced durations (how much of a step MAS and the aligner take).
json_stage "tts_train_step aligner" 240 tts_train_step.json \
    "$PY" bench/tts_train_step.py --device cuda --json --steps 10 --warmup 3
json_stage "tts_train_step forced" 180 tts_train_step_forced.json \
    "$PY" bench/tts_train_step.py --device cuda --json --steps 10 --warmup 3 --durations forced

stage summary 20 "$PY" - "$OUT" <<'EOF'
import json, sys
from pathlib import Path

out = Path(sys.argv[1])

def load(name):
    try:
        return json.loads((out / name).read_text())
    except (OSError, ValueError) as exc:
        print(f"{name}: not available ({type(exc).__name__})")
        return None

for name in ("train_step_default.json", "train_step_b32_l500.json"):
    r = load(name)
    if r is None:
        continue
    s = r["shape"]
    print(f"{name}: {r['device_name']}, B={s['batch']} L={s['frames']}")
    for key, m in r["models"].items():
        print(f"  {key:<5} median {1e3 * m['median_step_s']:8.2f} ms  peak {m['peak_mib']:8.1f} MiB"
              f"  saved {m['saved_mib']:8.1f} MiB")
    for key, t in r["targets"].items():
        verdict = "n/a" if t["pass"] is None else ("PASS" if t["pass"] else "FAIL")
        value = "n/a" if t["value"] is None else f"{t['value']:.3f}"
        print(f"  {key:<20} {value:>6} (target <= {t['max']})  {verdict}")
for name in ("tts_train_step.json", "tts_train_step_forced.json"):
    r = load(name)
    if r is None:
        continue
    s = r["shape"]
    print(f"{name}: B={s['batch']} tokens<={s['tokens']} frames<={s['frames']} "
          f"durations={r['durations']}")
    for m in r["models"]:
        label = f"{m['config']}/{m['backbone']}"
        if m["error"]:
            print(f"  {label:<22} FAILED: {m['error']}")
            continue
        print(f"  {label:<22} {1e3 * m['median_step_s']:8.1f} ms/step {m['steps_per_s']:7.2f} steps/s"
              f"  {m['hours_per_100k_steps']:6.1f} h/100k steps  peak {m['peak_total_mib']:8.0f} MiB")
    for config, ratio in r["spiking_vs_ann_time"].items():
        print(f"  {config}: spiking / ANN step time {ratio:.2f}x")
EOF

echo
echo "=== summary ($FAILED failed stage(s)); files in $OUT"
printf '%s\n' "${SUMMARY[@]}"
ls -l "$OUT"
exit "$FAILED"
