"""ESPnet's ``Speech2Text`` with strict loading and the decoding modes of :mod:`.decoding`.

One class serves the Python API (:class:`~spikespeech.inference.transcriber.Transcriber`) and the
recipes' decode stage (``python -m spikespeech.bin.asr_inference --decoding_mode MODE``), so both
decode the same way. Mode ``attention`` is ESPnet's own joint CTC/attention beam search,
untouched; the others return ESPnet's result tuples ``(text, tokens, token ids, Hypothesis)``.
"""

from __future__ import annotations

# isort: off
# first: imports ESPnet without its import-time downloads
from .strict import StrictASRTask
import espnet2.bin.asr_inference as espnet_inference

# isort: on
import torch

from .decoding import DecodingOptions
from .light_speech2text import check_decoder, nbest_results
from .scoped import swapped


class ModeSpeech2Text(espnet_inference.Speech2Text):
    """``Speech2Text(..., decoding_mode=MODE)``: every ESPnet argument as usual (``beam_size``,
    ``ctc_weight``, ``lm_weight``, ``nbest``, LM files), decoded in ``MODE``.

    In the CTC-based modes ``beam_size`` is the prefix beam; the language model (if
    ``lm_train_config`` is given) rescores the n-best with ``lm_weight``.
    """

    def __init__(self, *args, decoding_mode: str = "attention", beam_size: int = 20,
                 ctc_weight: float = 0.5, lm_weight: float = 1.0, **kwargs) -> None:
        # Speech2Text looks ``ASRTask`` up in its module globals to build the model: the strict
        # task loads weights-only with strict key matching (ESPnet's ignores missing/unexpected keys)
        with swapped(espnet_inference, "ASRTask", StrictASRTask):
            super().__init__(*args, beam_size=beam_size, ctc_weight=ctc_weight, lm_weight=lm_weight,
                             **kwargs)
        self.options = DecodingOptions(decoding_mode, beam_size, ctc_weight, lm_weight)
        check_decoder(self.options, self.asr_model)
        scorers = self.beam_search.full_scorers if self.beam_search is not None else {}
        self.lm = scorers.get("lm")  # the LM ESPnet built from --lm_train_config, if any

    @torch.no_grad()
    def __call__(self, speech):
        if self.options.mode == "attention":
            return super().__call__(speech)
        speech = torch.as_tensor(speech).to(self.device, getattr(torch, self.dtype))
        return nbest_results(self.asr_model, self.converter, self.tokenizer, speech, self.options,
                             self.nbest, self.lm)


def with_decoding_mode(mode: str) -> type[ModeSpeech2Text]:
    """A :class:`ModeSpeech2Text` whose default ``decoding_mode`` is ``mode``: for ESPnet's
    ``inference()``, which builds its ``Speech2Text`` itself with ESPnet's arguments only."""
    DecodingOptions(mode)  # ValueError on an unknown mode, before any model loads

    class Speech2Text(ModeSpeech2Text):
        def __init__(self, *args, **kwargs) -> None:
            kwargs.setdefault("decoding_mode", mode)
            super().__init__(*args, **kwargs)

        @staticmethod
        def from_pretrained(model_tag=None, **kwargs):
            if model_tag is not None:
                raise ValueError("--model_tag: spikespeech decodes local models only (no downloads)")
            return Speech2Text(**kwargs)

    return Speech2Text
