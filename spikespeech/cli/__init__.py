"""Command-line interface (``spikespeech ...``)."""
