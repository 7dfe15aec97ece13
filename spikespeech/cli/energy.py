"""``spikespeech energy``: firing rates, synaptic operations and energy vs the ANN of an
untrained model from its config (random weights: shapes and op counts, not a result)."""

from __future__ import annotations

import argparse
import json

from ..argtypes import positive_float, positive_int

HELP = "report firing rates, MACs/ACs and theoretical energy of an untrained model vs its ANN"
DESCRIPTION = (
    "Build the model described by --config with random weights (eval mode, reparameterised to its "
    "inference form), run it on random input and print, per weight layer and per scope, the "
    "measured firing rate, MACs, ACs and theoretical energy next to the same layers' ANN energy "
    "(45 nm: E_MAC 4.6 pJ, E_AC 0.9 pJ). An encoder YAML (spikespeech/conf/encoder/*.yaml) gives "
    "the encoder blocks of a pure encoder on --frames random frames. An ESPnet ASR training config "
    "(spikespeech/conf/asr/*.yaml, a recipe's conf/train_asr_*.yaml) gives the whole model per "
    "scope on --seconds of random audio: front-end, encoder blocks, CTC head, and the decoder's "
    "teacher-forced pass over --tokens tokens (attention rescoring of one hypothesis; the "
    "autoregressive search of mode 'attention' costs more). Firing rates of random weights on "
    "random input say nothing about a trained model's: the ratios here are not results; measure "
    "a trained model with 'spikespeech transcribe --energy' or the recipes' energy stage."
)
NOT_A_RESULT = "random weights, firing rate measured on random input: not a result"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", required=True,
                   help="encoder YAML (spikespeech/conf/encoder/*.yaml) or ESPnet ASR training config "
                   "(spikespeech/conf/asr/*.yaml)")
    p.add_argument("--frames", type=positive_int, default=250,
                   help="encoder YAML: encoder frames of random input (default 250 = 10 s after x4 "
                   "subsampling)")
    p.add_argument("--seconds", type=positive_float, default=10.0,
                   help="ESPnet config: seconds of random audio (default 10)")
    p.add_argument("--tokens", type=positive_int, default=30,
                   help="ESPnet config: tokens of the hypothesis the decoder scores (default 30)")
    p.add_argument("--vocab", type=positive_int, default=None,
                   help="ESPnet config: vocabulary size (default: the config's token_list, else 5000)")
    p.add_argument("--kind", choices=("spiking", "ann"), default="spiking",
                   help="encoder YAML: measure the spiking encoder or the same-shape ANN transformer")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config field, e.g. --set attention.type=ssa (repeatable)")
    p.add_argument("--e-mac", type=float, default=4.6, help="energy per MAC in pJ (default 4.6)")
    p.add_argument("--e-ac", type=float, default=0.9, help="energy per AC in pJ (default 0.9)")
    p.add_argument("--seed", type=int, default=0, help="random seed for weights and input")
    p.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace) -> int:
    import torch

    from ..config import load_yaml
    from .overrides import apply_overrides

    data = load_yaml(args.config)
    torch.manual_seed(args.seed)
    if isinstance(data.get("encoder"), str):  # an ESPnet training config: encoder is a name
        report, described = _espnet_model(apply_overrides(data, args.overrides), args)
    else:  # keys relative to the encoder's own mapping
        report, described = _pure_encoder(apply_overrides(data.get("encoder", data), args.overrides), args)
    if args.json:
        print(json.dumps({"config": str(args.config), "measured": described, "caveat": NOT_A_RESULT,
                          **report.to_dict()}, indent=2))
    else:
        print(f"{args.config}: {described}; {NOT_A_RESULT}")
        print(report.format_table())
    return 0


def _pure_encoder(data: dict, args: argparse.Namespace):
    """(report, what was measured) of the encoder blocks of an encoder YAML."""
    import torch

    from ..config import from_dict
    from ..encoder import EncoderConfig, build_encoder
    from ..energy import measure_energy
    from ..layers import fold_for_inference

    cfg = from_dict(EncoderConfig, data, where=args.config)
    model = fold_for_inference(build_encoder(cfg, args.kind))
    x = torch.randn(1, args.frames, cfg.d_model)
    scope = f"encoder blocks ({args.kind}, pure encoder)"
    report = measure_energy(model, x, e_mac_pj=args.e_mac, e_ac_pj=args.e_ac, scope=scope)
    n_params = sum(p.numel() for p in model.parameters())
    return report, (f"scope: {scope}: no front-end, decoder or CTC head; {n_params / 1e6:.2f} M "
                    f"parameters; {args.frames} frames of random input")


def _espnet_model(data: dict, args: argparse.Namespace):
    """(scoped report, what was measured) of the whole model of an ESPnet ASR training config."""
    import torch

    from .main import CLIError

    if args.kind != "spiking":
        raise CLIError("--kind ann: for an ESPnet config, give the ANN's own config "
                       "(e.g. a recipe's conf/train_asr_transformer.yaml)")
    # isort: off
    from ..espnet.asr_model import build_asr_model  # imports ESPnet's pieces (offline)
    from ..energy import EnergyMeter
    from ..espnet.decoding import decoder_log_probs, encode
    from ..espnet.energy_scopes import WHOLE_MODEL, asr_scoped_report
    from ..layers import fold_for_inference

    # isort: on
    given = data.get("token_list")
    vocab = args.vocab or (len(given) if isinstance(given, list) else 5000)
    tokens = ["<blank>", "<unk>", *(f"t{i}" for i in range(vocab - 3)), "<sos/eos>"]
    # no normalisation: its statistics come from training data; specaug is off in eval mode
    config = {**data, "token_list": tokens, "normalize": None, "normalize_conf": None}
    model = build_asr_model(config)
    if model is None:
        raise CLIError(f"{args.config}: a component this command cannot build (encoder "
                       f"{data['encoder']}, decoder {data.get('decoder')})")
    model.eval()
    fold_for_inference(model.encoder, inplace=True)
    rate = int((data.get("frontend_conf") or {}).get("fs", 16000))
    speech = 0.1 * torch.randn(int(args.seconds * rate))
    hypothesis = tuple(2 + i % (vocab - 3) for i in range(args.tokens))  # any tokens but the specials
    with torch.no_grad(), EnergyMeter(model, args.e_mac, args.e_ac, scope=WHOLE_MODEL) as meter:
        encoder_out = encode(model, speech)
        model.ctc.log_softmax(encoder_out)
        if model.decoder is not None:
            decoder_log_probs(model.decoder, encoder_out, [hypothesis], model.sos, model.eos)
    report = asr_scoped_report(meter.report(), args.tokens if model.decoder is not None else 0)
    n_params = sum(p.numel() for p in model.parameters())
    return report, (f"scope: the whole ESPnet ASR model ({data['encoder']} encoder) per scope; "
                    f"{n_params / 1e6:.2f} M parameters, vocabulary {vocab}; {args.seconds:g} s of random "
                    f"audio; decoder: one teacher-forced pass over {args.tokens} tokens (+ <eos>)")
