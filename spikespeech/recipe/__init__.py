"""Audio stages of the ESPnet-style recipe template, each a small CLI and Python API.

* :mod:`spikespeech.recipe.dump` — decode a Kaldi data dir (files, ``cmd |`` pipes, ``segments``),
  resample, write 16-bit PCM files and a new data dir with ``utt2num_samples`` and ``fs``;
* :mod:`spikespeech.recipe.perturb` — Kaldi-style speed perturbation of a dumped dir;
* :mod:`spikespeech.recipe.filter` — keep utterances by duration and transcript length.

Nothing is imported here, so ``python -m spikespeech.recipe.<stage>`` stays light and clean.
"""
