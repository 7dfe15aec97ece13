"""ESPnet-compatible entry points (``python -m spikespeech.bin.asr_train`` …)."""
