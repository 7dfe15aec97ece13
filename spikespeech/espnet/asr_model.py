"""Build a packed ESPnet ASR model without ESPnet's task registry, for fast start-up.

``espnet2.tasks.asr`` imports every frontend, encoder and tokenizer ESPnet has (g2p_en, nltk,
scikit-learn, …): 13–25 s on a 2-core machine, most of ``spikespeech transcribe``'s start-up.
The components our packs use are imported one by one instead (torch + ESPnet's pieces ≈ 3 s).
:func:`build_asr_model` mirrors ``ASRTask.build_model`` (espnet 202511) for those components
and returns ``None`` for any other, so that callers fall back to ESPnet's own builder; a test
checks both builders give the same modules and outputs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
import yaml

from .offline import import_quietly
from .weights import load_state_dict_strict

# config value -> "module:class" (ESPnet 202511's names in espnet2.tasks.asr's choices)
_FRONTENDS = {"default": "espnet2.asr.frontend.default:DefaultFrontend"}
_SPECAUGS = {"specaug": "espnet2.asr.specaug.specaug:SpecAug"}
_NORMALIZERS = {"global_mvn": "espnet2.layers.global_mvn:GlobalMVN",
                "utterance_mvn": "espnet2.layers.utterance_mvn:UtteranceMVN"}
_ENCODERS = {"iml_spikeformer": "spikespeech.espnet.encoder:IMLSpikeformerEncoder",
             "transformer": "espnet2.asr.encoder.transformer_encoder:TransformerEncoder",
             "conformer": "espnet2.asr.encoder.conformer_encoder:ConformerEncoder"}
_DECODERS = {"iml_spikeformer": "spikespeech.espnet.decoder:IMLSpikeformerDecoder",
             "transformer": "espnet2.asr.decoder.transformer_decoder:TransformerDecoder"}
_MODELS = {"espnet": "espnet2.asr.espnet_model:ESPnetASRModel"}
_CTC = "espnet2.asr.ctc:CTC"


def build_asr_model(config: dict) -> torch.nn.Module | None:
    """The untrained ``ESPnetASRModel`` of an ESPnet ASR training ``config`` (its ``token_list``
    a list), or ``None`` when the config names a component this builder does not know."""
    args = argparse.Namespace(**config)
    if not _known(args):
        return None
    token_list = list(args.token_list)
    vocab_size = len(token_list)
    frontend, input_size = None, getattr(args, "input_size", None)
    if input_size is None:
        frontend = _class(_FRONTENDS, args.frontend)(**(args.frontend_conf or {}))
        input_size = frontend.output_size()
    specaug = None
    if getattr(args, "specaug", None) is not None:
        specaug = _class(_SPECAUGS, args.specaug)(**(args.specaug_conf or {}))
    normalize = None
    if getattr(args, "normalize", None) is not None:
        normalize = _class(_NORMALIZERS, args.normalize)(**(args.normalize_conf or {}))
    encoder = _class(_ENCODERS, args.encoder)(input_size=input_size, **(args.encoder_conf or {}))
    decoder = None
    if getattr(args, "decoder", None) is not None:
        decoder = _class(_DECODERS, args.decoder)(
            vocab_size=vocab_size, encoder_output_size=encoder.output_size(), **(args.decoder_conf or {}))
    ctc = _class({"ctc": _CTC}, "ctc")(odim=vocab_size, encoder_output_size=encoder.output_size(),
                                      **(getattr(args, "ctc_conf", None) or {}))
    return _class(_MODELS, getattr(args, "model", None) or "espnet")(
        vocab_size=vocab_size, frontend=frontend, specaug=specaug, normalize=normalize,
        preencoder=None, encoder=encoder, postencoder=None, decoder=decoder, ctc=ctc,
        joint_network=None, token_list=token_list, **(args.model_conf or {}))


def load_asr_model(config_file: str | Path, model_file: str | Path,
                   device: str = "cpu") -> tuple[torch.nn.Module, dict]:
    """``(model in eval mode with the weights of model_file loaded strictly, config)``; a config
    this module cannot build goes through ESPnet's ``ASRTask`` (:mod:`.strict`), seconds slower."""
    with open(config_file, encoding="utf-8") as f:
        config = yaml.safe_load(f)
    if isinstance(config.get("token_list"), str):  # a path, as in a training run's config.yaml
        with open(config["token_list"], encoding="utf-8") as f:
            config["token_list"] = [line.rstrip() for line in f]
    model = build_asr_model(config)
    if model is None:
        from .strict import StrictASRTask

        model, _ = StrictASRTask.build_model_from_file(config_file, model_file, device)
    else:
        model.to(device)
        load_state_dict_strict(model, model_file, device)
    return model.eval(), config


def _known(args: argparse.Namespace) -> bool:
    model_conf = getattr(args, "model_conf", None) or {}
    return (getattr(args, "input_size", None) is not None or getattr(args, "frontend", None) in _FRONTENDS) \
        and getattr(args, "specaug", None) in (None, *_SPECAUGS) \
        and getattr(args, "normalize", None) in (None, *_NORMALIZERS) \
        and getattr(args, "preencoder", None) is None and getattr(args, "postencoder", None) is None \
        and getattr(args, "encoder", None) in _ENCODERS \
        and getattr(args, "decoder", None) in (None, *_DECODERS) \
        and (getattr(args, "model", None) or "espnet") in _MODELS \
        and not getattr(args, "use_adapter", False) \
        and model_conf.get("transducer_multi_blank_durations") is None \
        and isinstance(getattr(args, "token_list", None), (list, tuple))


def _class(table: dict[str, str], name: str):
    module, attribute = table[name].split(":")
    return getattr(import_quietly(module), attribute)
