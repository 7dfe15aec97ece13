"""Model card of a trained experiment: the recipe's own text plus what was measured.

    python -m spikespeech.recipe.model_card --exp exp/asr_x --about local/model_card.md \\
        --recipe egs/fsdd/asr1 --out exp/asr_x/MODEL_CARD.md

``--about`` is the corpus recipe's hand-written part (title, intended use, data with licence
and attribution, limitations); everything after it is generated from the experiment dir, so
a card never quotes a number that was not measured: the architecture (``config.yaml``), the
parameter count and training budget (``model_info.json``), the scores of every test set
(``decode*/<set>/score/scores.json``) and the theoretical energy vs the same-shape ANN
(``energy.json``) — the same files RESULTS.md is made from (:mod:`.results`). With
``--bar``, a TTS card also says whether each set meets the intelligibility bar
(recognizer WER on synthesized speech <= BAR x its WER on the real recordings). Each
``--related EXP`` adds the test scores of another experiment of the recipe (e.g. the same
model trained without one speaker, to measure speaker independence).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from ..atomic import atomic_write_text
from .results import (
    ResultsError,
    Row,
    collect,
    energy_scope_table,
    fmt_energy,
    fmt_num,
    fmt_params,
    fmt_pct,
)

PROG = "python -m spikespeech.recipe.model_card"


def neuron_summary(neuron: dict) -> str:
    """``imls (4 levels)`` for multi-level neurons, ``lif (threshold 1.0, tau 2.0)`` for binary ones."""
    if not neuron.get("type"):
        return "the encoder's defaults (not named in the config)"
    if neuron.get("levels"):
        return f"{neuron.get('type')} ({neuron['levels']} levels)"
    return f"{neuron.get('type')} (threshold {neuron.get('v_threshold')}, tau {neuron.get('tau')})"


def is_ann(conf: dict) -> bool:
    """True for a training ``config.yaml`` without spiking neurons (a TTS ANN twin, an ANN encoder)."""
    if "tts" in conf:
        return (conf.get("tts_conf") or {}).get("backbone", "spiking") == "ann"
    return conf.get("encoder") != "iml_spikeformer"  # the one spiking ASR encoder we register


def architecture(conf: dict) -> list[str]:
    """Markdown bullets describing the model of a training ``config.yaml``."""
    if "tts" in conf:
        tc = conf.get("tts_conf") or {}
        enc, dec = tc.get("encoder") or {}, tc.get("decoder") or {}
        fe = conf.get("feats_extract_conf") or {}
        neuron, attn = enc.get("neuron") or {}, enc.get("attention") or {}
        ann = is_ann(conf)  # the ANN twin keeps the spiking fields in its config, unused
        return [
            f"- acoustic model: {conf['tts']} ({tc.get('backbone', 'spiking')} backbone), "
            f"{enc.get('layers')} encoder + {dec.get('layers')} decoder blocks, d {enc.get('d_model')}, "
            f"FFN {enc.get('ffn_dim')} (conv kernels {enc.get('ffn_kernels')}), "
            f"{attn.get('heads')} heads of {'softmax' if ann else attn.get('type')} attention",
            "- neurons: none: this is the ANN twin, the same model with spikes off (real-valued "
            "activations); where the text above speaks of spikes, it is about the spiking model"
            if ann else f"- neurons: {neuron_summary(neuron)}, T = {enc.get('time_steps')} time steps",
            f"- features: {fe.get('n_mels')} log-mel bins at {fe.get('fs')} Hz, hop {fe.get('hop_length')}, "
            f"FFT {fe.get('n_fft')}; variance adaptor (duration, pitch, energy); learned aligner",
        ]
    ec, dc = conf.get("encoder_conf") or {}, conf.get("decoder_conf") or {}
    fe = conf.get("frontend_conf") or {}
    neuron, attn = ec.get("neuron") or {}, ec.get("attention") or {}
    decay = attn.get("decay") or {}
    return [
        f"- encoder: {conf.get('encoder')}, {ec.get('num_blocks')} blocks, d {ec.get('output_size')}, "
        f"FFN {ec.get('linear_units')}, {ec.get('attention_heads')} heads, input layer "
        f"{ec.get('input_layer')}, output {ec.get('output', 'spikes')}",
        (f"- neurons: {neuron_summary(neuron)}, "
         f"{ec.get('time_steps')} time step(s); attention {attn.get('type')}"
         + (f" with {decay.get('schedule')} decay mask" if decay else "")
         if not is_ann(conf) else "- neurons: none (a conventional ANN encoder)"),
        f"- decoder: {conf.get('decoder')}, {dc.get('num_blocks')} blocks; CTC weight "
        f"{(conf.get('model_conf') or {}).get('ctc_weight')}; {conf.get('token_type')} tokens "
        f"({len(conf.get('token_list') or [])} in the vocabulary)",
        f"- features: {fe.get('n_mels')} log-mel bins at {fe.get('fs')} Hz, hop {fe.get('hop_length')}",
    ]


def _asr_rows(rows: list[Row]) -> str:
    lines = ["| Test set | Utterances | WER % | CER % |", "|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r.test_set} | {r.scores['word']['n_sentences']} | {fmt_pct(r.scores.get('wer'))} | "
                     f"{fmt_pct(r.scores.get('cer'))} |")
    return "\n".join(lines)


def _tts_rows(rows: list[Row], bar: float | None) -> str:
    """One line per test set and recognizer (``tts_score --asr a,b``: each one's WER)."""
    head = "| Test set | Utterances | MCD dB | F0 RMSE Hz | ASR | WER synthesized % | WER real % | ratio |"
    lines = [head + (f" ratio <= {bar:g} |" if bar else ""), "|---" * (8 + bool(bar)) + "|"]
    for r in rows:
        s = r.scores
        systems = s.get("asr_systems") or {s.get("asr") or "-": {
            "label": s.get("asr") or "-", "wer_syn": s.get("asr_wer_syn"), "wer_ref": s.get("asr_wer_ref"),
            "wer_ratio": s.get("asr_wer_ratio")}}
        for asr in systems.values():
            ratio = asr.get("wer_ratio")
            met = "-" if ratio is None else ("yes" if ratio <= bar else "no") if bar else None
            cells = [r.test_set, fmt_num(s.get("n_scored"), "d"), fmt_num(s.get("mcd_db"), ".2f"),
                     fmt_num(s.get("f0_rmse_hz"), ".1f"), asr.get("label") or "-",
                     fmt_pct(asr.get("wer_syn")), fmt_pct(asr.get("wer_ref")),
                     fmt_num(ratio, ".2f"), *([met] if bar else [])]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _energy_rows(rows: list[Row]) -> str:
    lines = ["| Test set | Utterances | Firing rate | Energy / utterance | ANN energy / utterance "
             "| ANN ÷ SNN |", "|---|---|---|---|---|---|"]
    for r in rows:  # the energy stage meters the first --energy_utts utterances, not the whole set
        e = r.energy
        cells = [r.test_set, fmt_num(e.get("utterances"), "d"), fmt_num(e.get("firing_rate"), ".3f"),
                 fmt_energy(e.get("energy_uj")), fmt_energy(e.get("ann_energy_uj")),
                 fmt_num(e.get("ratio"), ".2f")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render(exp: Path, about: str, recipe: str, bar: float | None = None,
           related: list[Path] = ()) -> str:
    """The card's Markdown."""
    config = exp / "config.yaml"
    if not config.is_file():
        raise ResultsError(f"{config}: not found (train the model first)")
    conf = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    rows = collect([exp])
    if not rows:
        raise ResultsError(f"{exp}: no decode*/*/score/scores.json (decode and score first)")
    info = rows[0].info
    tts = rows[0].is_tts
    scope = rows[0].energy.get("scope") or ("acoustic model" if tts else "encoder")
    scope += ", without the vocoder" if tts else " = front-end + encoder blocks" if scope == "encoder" else ""
    scoped = energy_scope_table(rows)
    per_scope = [] if not scoped else [
        "Per scope" + ("" if tts else " (the whole model's includes the decoder, as the decoding mode "
                       "used it, and the CTC head)") + ":\n", scoped]
    parts = [
        about.rstrip() + "\n",
        "## Model\n",
        *architecture(conf),
        f"- parameters: {fmt_params(info.get('parameters'))}"
        + (" (without the training-only aligner)" if tts else ""),
        f"- training: {info.get('epochs') or '-'} epochs"
        + (f", {info['train_seconds'] / 60:.0f} min of training"
           if info.get("train_seconds") else ""),
        "",
        "## Measured on the held-out test sets\n",
        _tts_rows(rows, bar) if tts else _asr_rows(rows),
        "",
        ("Intelligibility: WER of each independent recognizer (ASR column) on our synthesized speech "
         "vs on the real recordings of the same sentences (lower-cased, punctuation removed). "
         "MCD over DTW-aligned WORLD mel-cepstra (order 24)." if tts else
         "WER over whitespace-separated words, CER over characters, of the joint CTC/attention "
         "beam search."),
        "",
        *_related_sections(related, bar),
        f"## Theoretical energy vs the same-shape ANN ({scope})\n",
        _energy_rows(rows),
        "",
        *per_scope,
        "45 nm figures: E_MAC 4.6 pJ, E_AC 0.9 pJ; spike-driven layers cost one AC per input spike, "
        "the ANN one MAC per input (`spikespeech energy`).",
        "",
        "## Reproduce\n",
        f"`{recipe}/run.sh` trains, decodes, scores and packs this model from scratch "
        "(`--help` of the stage template lists the options).",
        "",
    ]
    return "\n".join(parts)


def _related_sections(related: list[Path], bar: float | None) -> list[str]:
    parts = []
    for exp in related:
        rows = collect([exp])
        if not rows:
            raise ResultsError(f"{exp}: no decode*/*/score/scores.json (decode and score it first)")
        config = exp / "config.yaml"
        ann = config.is_file() and is_ann(yaml.safe_load(config.read_text(encoding="utf-8")) or {})
        parts += [f"## Related experiment: `{exp.parent.name}/{exp.name}`"
                  + (" (no spiking neurons: an ANN)" if ann else "") + "\n",
                  _tts_rows(rows, bar) if rows[0].is_tts else _asr_rows(rows), ""]
    return parts


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    p.add_argument("--exp", type=Path, required=True, help="trained, decoded and scored experiment dir")
    p.add_argument("--about", type=Path, required=True, help="the recipe's hand-written card text")
    p.add_argument("--recipe", required=True, help="recipe dir named in the card (e.g. egs/fsdd/asr1)")
    p.add_argument("--bar", type=float, help="TTS: intelligibility bar on the WER ratio synthesized/real")
    p.add_argument("--related", type=Path, action="append", default=[], metavar="EXP",
                   help="another scored experiment whose test scores the card lists (repeatable)")
    p.add_argument("--out", type=Path, required=True, help="card to (re)write")
    args = p.parse_args(argv)
    try:
        if not args.about.is_file():
            raise ResultsError(f"{args.about}: card text not found")
        text = render(args.exp, args.about.read_text(encoding="utf-8"), args.recipe, args.bar,
                      args.related)
    except ResultsError as exc:
        print(f"model_card: error: {exc}", file=sys.stderr)
        return 2
    atomic_write_text(args.out, text)
    print(f"model_card: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
