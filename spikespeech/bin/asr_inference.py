"""``python -m spikespeech.bin.asr_inference``: ESPnet's ``asr_inference``, strict loading,
with one more option, ``--decoding_mode``.

Same arguments and outputs as ``espnet2.bin.asr_inference``. Models are built with our encoders
registered, and checkpoints are loaded weights-only with strict key matching (ESPnet's own
loader ignores missing and unexpected keys). ``--decoding_mode`` picks the decoding of
:mod:`spikespeech.espnet.decoding`: ``attention`` (the default: ESPnet's joint CTC/attention
beam search, unchanged), ``attention_rescoring``, ``ctc_prefix_beam`` or ``ctc_greedy``; in the
recipes, ``--inference_args "--decoding_mode attention_rescoring"``.
"""

from __future__ import annotations

import sys

from espnet.utils.cli_utils import get_commandline_args

from spikespeech.decoding_modes import MODES
from spikespeech.espnet.scoped import swapped
from spikespeech.espnet.speech2text import ModeSpeech2Text, espnet_inference, with_decoding_mode

Speech2Text = ModeSpeech2Text


def get_parser():
    parser = espnet_inference.get_parser()
    parser.add_argument("--decoding_mode", choices=MODES, default="attention",
                        help="attention: ESPnet's joint CTC/attention beam search; attention_rescoring: "
                        "CTC prefix beam search, its n-best rescored by the attention decoder; "
                        "ctc_prefix_beam; ctc_greedy (spikespeech.espnet.decoding)")
    return parser


def main(cmd=None) -> None:
    print(get_commandline_args(), file=sys.stderr)
    kwargs = vars(get_parser().parse_args(cmd))
    kwargs.pop("config", None)
    mode = kwargs.pop("decoding_mode")
    # ESPnet's inference() builds the module-global Speech2Text with its own arguments only
    with swapped(espnet_inference, "Speech2Text", with_decoding_mode(mode)):
        espnet_inference.inference(**kwargs)


__all__ = ["Speech2Text", "get_parser", "main"]

if __name__ == "__main__":
    main()
