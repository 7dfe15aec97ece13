"""Speech data: Kaldi-style data directories and corpus preparation."""

from .kaldi import Utterance, read_kaldi_dir, write_kaldi_dir

__all__ = ["Utterance", "read_kaldi_dir", "write_kaldi_dir"]

# Data-dir utilities, imported on first use: an eager import would make
# ``python -m spikespeech.data.datadir`` warn that the module was already in sys.modules.
_DATADIR_EXPORTS = (
    "DataDirError",
    "DataDirSummary",
    "FixReport",
    "combine_data_dirs",
    "fix_data_dir",
    "subset_data_dir",
    "validate_data_dir",
)
__all__ += list(_DATADIR_EXPORTS)


def __getattr__(name: str):
    if name in _DATADIR_EXPORTS:
        from . import datadir

        return getattr(datadir, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
