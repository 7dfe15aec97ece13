"""Results stage of the recipes: one RESULTS.md comparing experiments (spiking and ANN).

    python -m spikespeech.recipe.results --out RESULTS.md EXP_DIR [EXP_DIR ...]

For each experiment dir it reads every ``EXP_DIR/decode*/<test_set>/score/scores.json``
(written by :mod:`spikespeech.recipe.score` for ASR, :mod:`spikespeech.recipe.tts_score`
for TTS), and when present ``EXP_DIR/model_info.json``
(:mod:`spikespeech.recipe.model_info`: ``name``, ``encoder``, ``parameters``, ``epochs``,
``train_seconds``, ``best_valid``) and ``EXP_DIR/decode*/<test_set>/energy.json``
(:mod:`spikespeech.recipe.energy`: ``scope``, ``firing_rate``, ``energy_uj_per_utt``,
``ann_energy_uj_per_utt``, ``ann_to_snn_ratio``, and ``scopes`` / ``whole_model`` where the
model was metered per scope). Absent values print as ``-``.

RESULTS.md is regenerated whole on each run (written atomically): a header (date, host,
command), a table of the models, then one table per test set with a row per experiment and
decode dir: ASR — WER and CER (%), the word-level substitution, deletion, insertion and
sentence error rates (% of reference words / sentences); TTS — MCD, F0 RMSE, V/UV error and
the recognizer's WER on synthesized vs real speech; then the model's energy per utterance
next to the same-shape ANN's, so spiking and ANN models sit side by side, and per scope
(front-end, encoder blocks, decoder, CTC head, whole model) where energy.json has them.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..atomic import atomic_write_text
from ..errors import SpikespeechError

PROG = "python -m spikespeech.recipe.results"
# accepted spellings of the optional fields (first present wins)
INFO_KEYS = {
    "name": ("name",),
    "encoder": ("encoder", "encoder_type"),
    "parameters": ("parameters", "params", "num_parameters"),
    "epochs": ("epochs",),
    "train_seconds": ("train_seconds", "train_time_seconds", "train_time_s"),
    "best_valid": ("best_valid",),
}
ENERGY_UJ = {  # key -> factor to microjoules
    "energy": (("energy_uj_per_utt", 1.0), ("energy_uj", 1.0), ("energy_mj_per_utt", 1e3)),
    "ann_energy": (("ann_energy_uj_per_utt", 1.0), ("ann_energy_uj", 1.0), ("ann_energy_mj_per_utt", 1e3),
                   ("ann_energy", 1.0)),
}


ASR_NOTE = ("- WER: whitespace-separated words, CER: all characters except whitespace; case and "
            "punctuation as in the transcripts (nothing normalised). WER, CER, Sub, Del, Ins in % of "
            "reference words (CER: of characters); S.Err in % of sentences.")
TTS_NOTE = ("- TTS (definitions in each score/scores.json): MCD in dB over DTW-aligned WORLD "
            "mel-cepstra (order 24, no c0, silence kept); F0 RMSE over frames voiced in both; ASR-WER "
            "of an independent recognizer on the synthesized (syn) and the real (ref) speech of the "
            "same sentences, in %.")


class ResultsError(SpikespeechError):
    """Results cannot be gathered (message names the file or dir and the problem)."""


@dataclass
class Row:
    """One experiment's scores on one test set with one decode dir."""

    model: str
    exp_dir: Path
    decode: str
    test_set: str
    scores: dict
    info: dict = field(default_factory=dict)
    energy: dict = field(default_factory=dict)

    @property
    def is_tts(self) -> bool:
        return "mcd_db" in self.scores


def _load_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{path}: invalid JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise ResultsError(f"{path}: expected a JSON object")
    return data


def _pick(data: dict, keys: tuple[str, ...]):
    return next((data[k] for k in keys if data.get(k) is not None), None)


def read_model_info(exp_dir: Path) -> dict:
    """``model_info.json`` normalised to the keys of :data:`INFO_KEYS` ({} when absent)."""
    path = exp_dir / "model_info.json"
    if not path.is_file():
        return {}
    data = _load_json(path)
    return {key: _pick(data, names) for key, names in INFO_KEYS.items()}


def read_energy(decode_set_dir: Path) -> dict:
    """A test set's ``energy.json`` as scope, firing_rate, energy_uj, ann_energy_uj, ratio, utterances and
    ``scopes``: the same of each scope and of the whole model (empty in older files) ({} if absent)."""
    path = decode_set_dir / "energy.json"
    if not path.is_file():
        return {}
    data = _load_json(path)
    parts = [*(data.get("scopes") or []), *([data["whole_model"]] if data.get("whole_model") else [])]
    return {**_energy_fields(data), "utterances": data.get("utterances"),
            "scopes": [_energy_fields(p) for p in parts if isinstance(p, dict)]}


def _energy_fields(data: dict) -> dict:
    out = {"scope": data.get("scope"), "firing_rate": data.get("firing_rate"),
           "ratio": _pick(data, ("ann_to_snn_ratio", "ratio")),
           "per_token_uj": data.get("energy_uj_per_output_token")}
    for key, spellings in ENERGY_UJ.items():
        out[f"{key}_uj"] = next((data[k] * f for k, f in spellings if isinstance(data.get(k), int | float)),
                                None)
    if out["ratio"] is None and out["energy_uj"] and out["ann_energy_uj"] is not None:
        out["ratio"] = out["ann_energy_uj"] / out["energy_uj"]
    return out


def collect(exp_dirs: list[Path]) -> list[Row]:
    """Rows for every ``decode*/<test_set>/score/scores.json`` of the experiments (in the given order)."""
    rows: list[Row] = []
    for exp_dir in exp_dirs:
        if not exp_dir.is_dir():
            raise ResultsError(f"{exp_dir}: experiment dir not found")
        info = read_model_info(exp_dir)
        model = str(info.get("name") or exp_dir.name)
        for path in sorted(exp_dir.glob("decode*/*/score/scores.json")):
            scores = _load_json(path)
            asr = isinstance(scores.get("word"), dict) and "wer" in scores
            if not asr and "mcd_db" not in scores:
                raise ResultsError(f"{path}: not a scores.json written by spikespeech.recipe.score "
                                   "or tts_score")
            set_dir = path.parent.parent
            rows.append(Row(model, exp_dir, set_dir.parent.name, set_dir.name, scores, info,
                            read_energy(set_dir)))
    return rows


def fmt_pct(value) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def fmt_num(value, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def fmt_params(n) -> str:
    if n is None:
        return "-"
    return f"{n / 1e6:.2f}M" if n >= 1e5 else f"{n / 1e3:.1f}k"


def _duration(seconds) -> str:
    if seconds is None:
        return "-"
    minutes = round(seconds / 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{seconds / 60:.1f} min"


def fmt_energy(uj) -> str:
    if uj is None:
        return "-"
    if uj >= 1e3:
        return f"{uj / 1e3:.3g} mJ"
    return f"{uj:.3g} µJ" if uj >= 1 else f"{uj * 1e3:.3g} nJ"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def models_table(rows: list[Row]) -> str:
    """One line per experiment: encoder, parameters, epochs, training time, dir."""
    seen: dict[Path, Row] = {}
    for row in rows:
        seen.setdefault(row.exp_dir, row)
    body = [[r.model, r.info.get("encoder") or "-", fmt_params(r.info.get("parameters")),
             fmt_num(r.info.get("epochs"), "d"), _duration(r.info.get("train_seconds")),
             _best_valid(r.info.get("best_valid")), f"`{r.exp_dir}`"]
            for r in seen.values()]
    return _table(["Model", "Encoder", "Params", "Epochs", "Train time", "Best valid (epoch)", "Exp dir"],
                  body)


def _best_valid(best: dict | None) -> str:
    if not isinstance(best, dict) or not isinstance(best.get("value"), int | float):
        return "-"
    return f"{best.get('criterion', '')} {best['value']:.4g} ({best.get('epoch', '-')})".strip()


def test_set_table(rows: list[Row]) -> str:
    """One line per experiment and decode dir on a test set."""
    body = []
    for r in rows:
        w, e = r.scores["word"], r.energy
        body.append([
            r.model, r.decode, fmt_params(r.info.get("parameters")),
            str(w["n_sentences"]), str(w["n_ref_tokens"]),
            fmt_pct(r.scores.get("wer")), fmt_pct(r.scores.get("cer")),
            *(fmt_pct(w[k] / w["n_ref_tokens"]) for k in ("substitutions", "deletions", "insertions")),
            fmt_pct(w["sentence_error_rate"]), fmt_num(e.get("firing_rate"), ".3f"),
            fmt_energy(e.get("energy_uj")), fmt_energy(e.get("ann_energy_uj")),
            fmt_num(e.get("ratio"), ".2f"),
        ])
    header = ["Model", "Decode", "Params", "Snt", "Wrd", "WER", "CER", "Sub", "Del", "Ins", "S.Err",
              "Firing rate", "Energy/utt", "ANN energy/utt", "ANN÷model"]
    return _table(header, body)


def tts_test_set_table(rows: list[Row]) -> str:
    """One line per TTS experiment and decode dir on a test set: the headline recognizer's WERs,
    then each further recognizer of ``asr_systems`` (a second opinion) as "syn / ref"."""
    others = list(dict.fromkeys(label for r in rows for label in _asr_labels(r.scores)[1:]))
    body = []
    for r in rows:
        sc, e = r.scores, r.energy
        systems = {s.get("label"): s for s in (sc.get("asr_systems") or {}).values()}
        body.append([
            r.model, r.decode, fmt_params(r.info.get("parameters")), fmt_num(sc.get("n_scored"), "d"),
            fmt_num(sc.get("mcd_db"), ".2f"), fmt_num(sc.get("f0_rmse_hz"), ".1f"),
            fmt_num(sc.get("f0_rmse_cents"), ".0f"), fmt_pct(sc.get("vuv_error")),
            fmt_pct(sc.get("asr_wer_syn")), fmt_pct(sc.get("asr_wer_ref")),
            fmt_num(sc.get("asr_wer_ratio"), ".2f"),
            *(f"{fmt_pct(systems[o].get('wer_syn'))} / {fmt_pct(systems[o].get('wer_ref'))}" if o in systems
              else "-" for o in others),
            fmt_num(e.get("firing_rate"), ".3f"), fmt_energy(e.get("energy_uj")),
            fmt_energy(e.get("ann_energy_uj")), fmt_num(e.get("ratio"), ".2f"),
        ])
    headline = {labels[0] for r in rows if (labels := _asr_labels(r.scores))}
    asr = f" ({headline.pop()})" if len(headline) == 1 else ""
    header = ["Model", "Decode", "Params", "Utts", "MCD dB", "F0 RMSE Hz", "F0 RMSE cents", "V/UV err",
              f"ASR-WER syn{asr}", f"ASR-WER ref{asr}", "syn÷ref", *(f"{o} WER syn / ref" for o in others),
              "Firing rate", "Energy/utt", "ANN energy/utt", "ANN÷model"]
    return _table(header, body)


def energy_scope_table(rows: list[Row]) -> str:
    """One line per scope of each row's energy.json (rows without scopes left out): firing rate,
    energy and ANN energy per utterance, ratio, decoder energy per output token; "" if none."""
    body = [[r.model, r.decode, part["scope"] or "-", fmt_num(part["firing_rate"], ".3f"),
             fmt_energy(part["energy_uj"]), fmt_energy(part["ann_energy_uj"]), fmt_num(part["ratio"], ".2f"),
             fmt_energy(part["per_token_uj"])]
            for r in rows for part in r.energy.get("scopes", [])]
    if not body:
        return ""
    return _table(["Model", "Decode", "Scope", "Firing rate", "Energy/utt", "ANN energy/utt", "ANN÷model",
                   "Energy/token"], body)


def _asr_labels(scores: dict) -> list[str]:
    """The recognizers' labels, the headline one first (scores.json keeps their order)."""
    return [s["label"] for s in (scores.get("asr_systems") or {}).values()
            if isinstance(s, dict) and s.get("label")]


def render(rows: list[Row], command: str, now: datetime.datetime | None = None) -> str:
    """The whole RESULTS.md text."""
    now = now or datetime.datetime.now().astimezone()
    parts = [
        "# Results\n",
        f"- date: {now.isoformat(timespec='seconds')}",
        f"- host: {platform.node() or '-'} ({platform.platform()}, Python {platform.python_version()})",
        f"- command: `{command}`",
        *([ASR_NOTE] if any(not r.is_tts for r in rows) else []),
        *([TTS_NOTE] if any(r.is_tts for r in rows) else []),
        "- Energy (from energy.json): theoretical energy per utterance of one scope, in the test-set "
        "tables: ASR the encoder (front-end + encoder blocks), TTS the acoustic model (no vocoder); "
        "ANN energy/utt is the same layers' as an ANN; ANN÷model is how many times less energy that "
        "scope uses (1.00 for an ANN). \"Energy per scope\" gives each part and the whole model (ASR: "
        "the decoder in the decoding mode used, with its energy per output token, and the CTC head).\n",
        "## Models\n",
        models_table(rows),
    ]
    for test_set in sorted({r.test_set for r in rows}):
        for tts in (False, True):
            subset = [r for r in rows if r.test_set == test_set and r.is_tts == tts]
            if subset:
                parts += [f"## {test_set}\n", (tts_test_set_table if tts else test_set_table)(subset)]
                if scoped := energy_scope_table(subset):
                    parts += [f"### Energy per scope ({test_set})\n", scoped]
    return "\n".join(parts)


def write_results_md(exp_dirs: list[str | Path], out: str | Path, command: str | None = None) -> str:
    """Gather the experiments' results and (re)write ``out`` atomically; returns the markdown."""
    exp_dirs = [Path(d) for d in exp_dirs]
    if not exp_dirs:
        raise ResultsError("no experiment dirs given")
    rows = collect(exp_dirs)
    if not rows:
        raise ResultsError(f"no decode*/*/score/scores.json under {', '.join(map(str, exp_dirs))}")
    command = command or f"{PROG} --out {shlex.quote(str(out))} {shlex.join(map(str, exp_dirs))}"
    text = render(rows, command)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, text)
    return text


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the exit status (2 on bad input)."""
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, required=True, help="markdown file to (re)write")
    p.add_argument("exp_dirs", type=Path, nargs="+", metavar="EXP_DIR")
    args = p.parse_args(argv)
    command = f"{PROG} {shlex.join(sys.argv[1:] if argv is None else argv)}"
    try:
        write_results_md(args.exp_dirs, args.out, command)
    except ResultsError as exc:
        print(f"results: error: {exc}", file=sys.stderr)
        return 2
    without = [str(d) for d in args.exp_dirs if not any(d.glob("decode*/*/score/scores.json"))]
    if without:
        print(f"results: warning: no scores yet in {', '.join(without)}", file=sys.stderr)
    print(f"results: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
