"""``spikespeech energy``: firing rates, synaptic operations and energy vs the ANN."""

from __future__ import annotations

import argparse

from ..argtypes import positive_int

HELP = "report firing rates, MACs/ACs and theoretical energy of a model vs its ANN"
DESCRIPTION = (
    "Build the encoder described by --config (randomly initialised, eval mode, reparameterised "
    "to its inference form), run it on --frames frames of synthetic input and print, per weight "
    "layer and in total, the measured firing rate, MACs, ACs and theoretical energy next to the "
    "ANN-equivalent energy (45 nm: E_MAC 4.6 pJ, E_AC 0.9 pJ)."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", required=True, help="encoder YAML (e.g. spikespeech/conf/encoder/*.yaml)")
    p.add_argument("--frames", type=positive_int, default=250,
                   help="encoder frames of synthetic input (default 250 = 10 s after x4 subsampling)")
    p.add_argument("--kind", choices=("spiking", "ann"), default="spiking",
                   help="measure the spiking encoder or the same-shape ANN transformer")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config field, e.g. --set attention.type=ssa (repeatable)")
    p.add_argument("--e-mac", type=float, default=4.6, help="energy per MAC in pJ (default 4.6)")
    p.add_argument("--e-ac", type=float, default=0.9, help="energy per AC in pJ (default 0.9)")
    p.add_argument("--seed", type=int, default=0, help="random seed for weights and input")
    p.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace) -> int:
    import torch

    from ..config import from_dict, load_yaml
    from ..encoder import EncoderConfig, build_encoder
    from ..energy import measure_energy
    from ..layers import fold_for_inference
    from .overrides import apply_overrides

    data = load_yaml(args.config)
    if isinstance(data.get("encoder"), str):  # an ESPnet training config: encoder is a name
        from .main import CLIError

        raise CLIError(f"{args.config}: an ESPnet training config (encoder: {data['encoder']}); this "
                       "command takes an encoder YAML (spikespeech/conf/encoder/*.yaml); for a trained "
                       "model use the recipe's energy stage (python -m spikespeech.recipe.energy)")
    data = data.get("encoder", data)
    cfg = from_dict(EncoderConfig, apply_overrides(data, args.overrides), where=args.config)
    torch.manual_seed(args.seed)
    model = fold_for_inference(build_encoder(cfg, args.kind))
    x = torch.randn(1, args.frames, cfg.d_model)
    report = measure_energy(model, x, e_mac_pj=args.e_mac, e_ac_pj=args.e_ac)
    if args.json:
        print(report.to_json())
    else:
        n_params = sum(p.numel() for p in model.parameters())
        print(f"{args.config}: {args.kind} encoder, {n_params / 1e6:.2f} M parameters, "
              f"{args.frames} frames of synthetic input, random weights")
        print(report.format_table())
    return 0
