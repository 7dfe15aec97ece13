"""Decoding in the CTC-based modes with a model built by :mod:`.asr_model`: ESPnet's
``Speech2Text`` interface (call with samples, get ``(text, tokens, token ids, Hypothesis)``
tuples) without importing ESPnet's task registry, so that a command decoding one short file
starts in seconds. :class:`~spikespeech.espnet.speech2text.ModeSpeech2Text` (ESPnet's class, for
the recipes and mode ``attention``) returns the same results through :func:`nbest_results`.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..errors import SpikespeechError
from .asr_model import load_asr_model
from .decoding import DecodingOptions, Hypothesis, decode_nbest
from .offline import import_quietly


class NoDecoderError(SpikespeechError):
    """``attention_rescoring`` asked of a CTC-only model."""


def check_decoder(options: DecodingOptions, asr_model: torch.nn.Module) -> None:
    """NoDecoderError if ``options`` need an attention decoder that ``asr_model`` lacks."""
    if options.mode == "attention_rescoring" and asr_model.decoder is None:
        raise NoDecoderError("has no attention decoder; use mode ctc_greedy or ctc_prefix_beam")


def nbest_results(asr_model: torch.nn.Module, converter, tokenizer, speech: torch.Tensor,
                  options: DecodingOptions, nbest: int = 1, lm: torch.nn.Module | None = None) -> list:
    """ESPnet ``Speech2Text`` results ``(text, tokens, token ids, Hypothesis)``, best first, of
    samples ``speech`` (1-D, on the model's device) decoded in a CTC-based mode."""
    return [espnet_result(asr_model, converter, tokenizer, hypothesis)
            for hypothesis in decode_nbest(asr_model, speech, options, lm=lm)[:nbest]]


def espnet_result(asr_model: torch.nn.Module, converter, tokenizer, hypothesis: Hypothesis) -> tuple:
    """``hypothesis`` as an ESPnet ``Speech2Text`` result ``(text, tokens, token ids, Hypothesis)``."""
    hypothesis_class = import_quietly("espnet.nets.beam_search").Hypothesis
    text, tokens, token_int = token_text(asr_model, converter, tokenizer, hypothesis.tokens)
    yseq = torch.tensor([asr_model.sos, *hypothesis.tokens, asr_model.eos], dtype=torch.long)
    return text, tokens, token_int, hypothesis_class(yseq=yseq, score=hypothesis.score)


def token_text(asr_model: torch.nn.Module, converter, tokenizer,
               token_ids) -> tuple[str | None, list[str], list[int]]:
    """``(text, tokens, token ids)`` of ``token_ids`` with blank and <sos/eos> dropped, as
    ESPnet's ``Speech2Text`` makes them; the text is ``None`` without a tokenizer."""
    specials = (asr_model.blank_id, asr_model.sos, asr_model.eos)
    token_int = [t for t in token_ids if t not in specials]
    tokens = converter.ids2tokens(token_int)
    return tokenizer.tokens2text(tokens) if tokenizer is not None else None, tokens, token_int


def text_tokenizer(token_type: str | None, bpemodel: str | None):
    """The tokenizer ESPnet's ``Speech2Text`` builds for a model's ``token_type`` (tokens → text),
    importing only what that type needs; ``None`` when the config has no token type."""
    if token_type is None:
        return None
    if token_type == "char":  # build_tokenizer's defaults, as Speech2Text calls it
        char = import_quietly("espnet2.text.char_tokenizer")
        return char.CharTokenizer(non_linguistic_symbols=None, space_symbol="<space>",
                                  remove_non_linguistic_symbols=False)
    if token_type == "bpe":
        if bpemodel is None:
            return None  # as Speech2Text
        return import_quietly("espnet2.text.sentencepiece_tokenizer").SentencepiecesTokenizer(bpemodel, {})
    build = import_quietly("espnet2.text.build_tokenizer", block_downloads=True)  # g2p_en: nltk
    return build.build_tokenizer(token_type=token_type)


class LightSpeech2Text:
    """``LightSpeech2Text(asr_train_config, asr_model_file, decoding_mode=MODE, ...)``: like
    :class:`~spikespeech.espnet.speech2text.ModeSpeech2Text` for the modes other than
    ``attention`` (``ValueError`` for that one), without a language model."""

    def __init__(self, asr_train_config: str | Path, asr_model_file: str | Path, device: str = "cpu",
                 decoding_mode: str = "attention_rescoring", beam_size: int = 10,
                 ctc_weight: float = 0.3, nbest: int = 1) -> None:
        self.options = DecodingOptions(decoding_mode, beam_size, ctc_weight)
        if self.options.mode == "attention":
            raise ValueError("mode 'attention' is ESPnet's joint beam search: use ModeSpeech2Text")
        self.asr_model, config = load_asr_model(asr_train_config, asr_model_file, device)
        check_decoder(self.options, self.asr_model)
        self.device, self.nbest, self.lm = device, nbest, None
        self.converter = import_quietly("espnet2.text.token_id_converter").TokenIDConverter(
            token_list=list(self.asr_model.token_list))
        self.tokenizer = text_tokenizer(config.get("token_type"), config.get("bpemodel"))

    @torch.no_grad()
    def __call__(self, speech) -> list:
        speech = torch.as_tensor(speech).to(self.device, torch.float32)
        return nbest_results(self.asr_model, self.converter, self.tokenizer, speech, self.options,
                             self.nbest)
