#!/usr/bin/env bash
# The main job on shipped defaults: install the locked environment, then start the web demo
# (http://127.0.0.1:7860) with the default ASR and TTS models shipped in the package.
# Extra arguments go to `spikespeech demo` (e.g. --port 8080, --host 0.0.0.0).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/uv.sh
exec $UV run --frozen spikespeech demo "$@"
