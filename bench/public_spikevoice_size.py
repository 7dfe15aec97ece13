#!/usr/bin/env python
"""Parameter count of the SpikeVoice authors' public model, the reference for our sizes.

The public code is WKX933/spikevoice_huawei; we read commit 10cce8e. This script imports that
code from an extracted copy (it copies none of it) and builds ``FastSpeech2_sdsa_ende_res_st``
(``model/fastspeech2_sdsa_ende_res_st.py``) with ``config/LJSpeech_sdsa_ende_res_st/*.yaml``,
its LJSpeech setting: 80 mels, an embedding of ``len(text.symbols.symbols) + 1`` rows. Three
things stand in for what the copy lacks:

* SpikingJelly: its LIF nodes and surrogate functions hold no learnable parameters, so
  parameter-free modules of the same names replace them (``MultiStepParametricLIFNode`` is
  imported there but never built; building one here raises);
* ``transformer_sdsa_ende_res_st_draw``, which the model file imports but the repository does
  not contain: the package ``transformer_sdsa_ende_res_st`` is the one it means;
* the corpus statistics (``stats.json``) the variance adaptor reads for its pitch/energy bin
  edges: placeholder values (the bins are buffers, not parameters).

    git --git-dir=<mirror of WKX933/spikevoice_huawei> archive 10cce8e | tar -x -C /tmp/sv
    .venv/bin/python bench/public_spikevoice_size.py /tmp/sv [--json]

Printed on 2026-12-04 for the public code at 10cce8e: 37,315,907 trainable parameters
(embedding 361 rows): encoder 12,708,096, variance_adaptor 1,316,099, decoder 18,923,008,
mel_linear 20,560, postnet 4,348,144.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import types
from pathlib import Path

import torch
import yaml
from torch import nn

CONFIG = "config/LJSpeech_sdsa_ende_res_st"


class ParameterFree(nn.Module):
    """Stands in for a SpikingJelly neuron or surrogate: no learnable parameters."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()


class NotBuilt(nn.Module):
    def __init__(self, *args, **kwargs) -> None:
        raise RuntimeError("the public model was not expected to build this module")


def install_stand_ins(code: Path) -> None:
    """SpikingJelly stand-ins, the missing package alias, and package __init__s skipped (they
    import the vocoder and plotting code, which the model does not need)."""
    modules = {
        "spikingjelly": {}, "spikingjelly.clock_driven": {}, "spikingjelly.clock_driven.functional": {},
        "spikingjelly.clock_driven.neuron": {"MultiStepLIFNode": ParameterFree,
                                             "MultiStepParametricLIFNode": NotBuilt},
        "spikingjelly.clock_driven.surrogate": {"ATan": ParameterFree, "Sigmoid": ParameterFree},
    }
    for name, attrs in modules.items():
        module = types.ModuleType(name)
        module.__path__ = []
        module.__dict__.update(attrs)
        sys.modules[name] = module
    for package in ("model", "utils"):
        module = types.ModuleType(package)
        module.__path__ = [str(code / package)]
        sys.modules[package] = module
    sys.path.insert(0, str(code))
    import transformer_sdsa_ende_res_st

    sys.modules["transformer_sdsa_ende_res_st_draw"] = transformer_sdsa_ende_res_st


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("code", type=Path, help="extracted copy of WKX933/spikevoice_huawei at 10cce8e")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)
    install_stand_ins(args.code.resolve())
    from model.fastspeech2_sdsa_ende_res_st import FastSpeech2_sdsa_ende_res_st
    from text.symbols import symbols

    preprocess = yaml.safe_load((args.code / CONFIG / "preprocess.yaml").read_text())
    model_config = yaml.safe_load((args.code / CONFIG / "model.yaml").read_text())
    with tempfile.TemporaryDirectory() as stats_dir:
        placeholder = {"pitch": [-3.0, 8.0, 0.0, 1.0], "energy": [-2.0, 9.0, 0.0, 1.0]}
        (Path(stats_dir) / "stats.json").write_text(json.dumps(placeholder))
        preprocess["path"]["preprocessed_path"] = stats_dir
        with torch.device("meta"):
            model = FastSpeech2_sdsa_ende_res_st(preprocess, model_config)
    parts = {name: count(child) for name, child in model.named_children() if count(child)}
    report = {"total": count(model), "parts": parts, "embedding_rows": len(symbols) + 1,
              "n_mels": preprocess["preprocessing"]["mel"]["n_mel_channels"]}
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{report['total']:,} trainable parameters (embedding {report['embedding_rows']} rows, "
              f"{report['n_mels']} mels)")
        for name, n in parts.items():
            print(f"  {name:<17} {n:>12,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
