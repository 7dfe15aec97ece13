"""Theoretical energy per scope of the shipped ASR pack's decodes, per decoding mode.

Each FSDD test clip (official split: takes 0-4) is transcribed with ``energy=True`` by the
public API (:class:`spikespeech.Transcriber`), which meters the whole ASR model during the
decode; the report sums the scopes over the clips: front-end, encoder blocks, decoder (the
calls the mode makes: rescoring of the n-best, or the autoregressive beam search of mode
``attention``), CTC head, the encoder (front-end + blocks, what the recipes reported before
scopes) and the whole model, each next to the same layers as an ANN
(45 nm: E_MAC 4.6 pJ, E_AC 0.9 pJ), the decoder also per output token.

    .venv/bin/python bench/energy_scopes.py [--clips 20] [--modes attention_rescoring,attention] [--json OUT]

For an untrained config (random weights: op counts, not a result) see
``spikespeech energy --config spikespeech/conf/asr/librispeech.yaml``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from spikespeech import Transcriber  # noqa: E402
from spikespeech.data.fsdd import fsdd_utterances, take_index  # noqa: E402
from spikespeech.decoding_modes import DEFAULT_MODE  # noqa: E402
from spikespeech.espnet.energy_scopes import encoder_part  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
FIELDS = ("energy_pj", "ann_energy_pj", "macs", "acs")


def clips(n: int) -> list:
    """``n`` FSDD test utterances spread evenly over the 300 (all digits and speakers)."""
    test = sorted((u for u in fsdd_utterances(SHARED / "fsdd") if take_index(u) <= 4), key=lambda u: u.utt_id)
    step = max(1, len(test) // n)
    return test[::step][:n]


def measure(mode: str, utterances: list, beam_size: int) -> dict:
    """Per scope over ``utterances``: summed energies and counts, spikes/slots of its neurons,
    output tokens; and the errors (words wrong)."""
    totals: dict[str, dict] = defaultdict(lambda: defaultdict(float))
    errors = 0
    with Transcriber(mode=mode, beam_size=beam_size) as asr:
        for u in utterances:
            result = asr.transcribe(u.audio, energy=True)
            errors += result.text != u.text
            for part in [*result.energy.scopes, encoder_part(result.energy), result.energy.whole()]:
                t = totals[part.scope]
                for name in FIELDS:
                    t[name] += getattr(part, name)
                t["spikes"] += sum(n.spikes for n in part.neurons)
                t["slots"] += sum(n.slots for n in part.neurons)
                t["units"] += part.units or 0
                t["unit"] = part.unit
    n = len(utterances)
    scopes = []
    for name, t in totals.items():
        per_unit = t["energy_pj"] / t["units"] if t["unit"] and t["units"] else None
        scopes.append({
            "scope": name, "energy_uj_per_utt": t["energy_pj"] / 1e6 / n,
            "ann_energy_uj_per_utt": t["ann_energy_pj"] / 1e6 / n,
            "ann_to_snn_ratio": t["ann_energy_pj"] / t["energy_pj"] if t["energy_pj"] else None,
            "firing_rate": t["spikes"] / t["slots"] if t["slots"] else None,
            "macs_per_utt": t["macs"] / n, "acs_per_utt": t["acs"] / n,
            **({"output_tokens": t["units"], "energy_uj_per_output_token": per_unit and per_unit / 1e6}
               if t["unit"] else {}),
        })
    return {"mode": mode, "beam_size": beam_size, "clips": n, "wrong": errors, "scopes": scopes}


def table(result: dict) -> str:
    lines = [f"mode {result['mode']} (beam {result['beam_size']}), {result['clips']} FSDD test clips, "
             f"{result['wrong']} wrong; per utterance:",
             f"  {'scope':<16} {'rate':>6} {'energy':>10} {'ANN':>10} {'ANN/SNN':>8}  per token"]
    for s in result["scopes"]:
        rate = "-" if s["firing_rate"] is None else f"{s['firing_rate']:.3f}"
        ratio = "-" if s["ann_to_snn_ratio"] is None else f"{s['ann_to_snn_ratio']:.2f}x"
        token = s.get("energy_uj_per_output_token")
        lines.append(f"  {s['scope']:<16} {rate:>6} {s['energy_uj_per_utt']:>7.2f} uJ "
                     f"{s['ann_energy_uj_per_utt']:>7.2f} uJ {ratio:>8}  "
                     + ("" if token is None else f"{token:.2f} uJ"))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clips", type=int, default=20)
    p.add_argument("--modes", default=f"{DEFAULT_MODE},attention")
    p.add_argument("--beam-size", type=int, default=10, help="the Transcriber's default")
    p.add_argument("--json", type=Path, help="also write the results here")
    args = p.parse_args(argv)
    utterances = clips(args.clips)
    results = [measure(mode, utterances, args.beam_size) for mode in args.modes.split(",")]
    for result in results:
        print(table(result))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
