#!/usr/bin/env bash
# The test suite: install the locked environment (with dev tools and the whisper extra, which
# tts_score's Whisper tests need), lint, then pytest.
# Extra arguments go to pytest (e.g. scripts/test.sh -m "not slow" -x).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/uv.sh
$UV run --frozen --extra whisper ruff check spikespeech tests bench
exec $UV run --frozen --extra whisper python -m pytest "$@"
