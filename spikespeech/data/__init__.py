"""Speech data: Kaldi-style data directories and corpus preparation."""

from .kaldi import Utterance, read_kaldi_dir, write_kaldi_dir

__all__ = ["Utterance", "read_kaldi_dir", "write_kaldi_dir"]
