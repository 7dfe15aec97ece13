#!/usr/bin/env bash
# The test suite: install the locked environment (with dev tools and the whisper and teacher
# extras, which the Whisper-scoring and teacher-stage tests need), lint, then pytest.
# Extra arguments go to pytest (e.g. scripts/test.sh -m "not slow" -x).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/uv.sh
$UV run --frozen --extra whisper --extra teacher ruff check spikespeech tests bench
exec $UV run --frozen --extra whisper --extra teacher python -m pytest "$@"
