"""Matplotlib figures of the demo: spike raster, per-layer firing rates, energy vs ANN, mel.

Figures are plain :class:`matplotlib.figure.Figure` objects on an Agg canvas, never pyplot:
nothing is registered globally, so nothing leaks between requests (gradio closes what it
renders). Each function returns one figure.
"""

from __future__ import annotations

import re

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..energy import EnergyReport, ScopedEnergyReport

_WIDE = (8.0, 3.0)


def _figure(size=_WIDE) -> Figure:
    fig = Figure(figsize=size, dpi=100, layout="constrained")
    FigureCanvasAgg(fig)  # Agg: renders headless, no GUI backend involved
    return fig


def message_figure(text: str) -> Figure:
    """A small figure that only says ``text`` (e.g. when a model records nothing)."""
    fig = _figure((8.0, 1.2))
    ax = fig.add_subplot()
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=11, color="0.35")
    return fig


def spike_raster(raster: np.ndarray, title: str, max_level: int, frame_s: float | None = None) -> Figure:
    """``raster`` ``(neurons, frames)`` spike counts as an image: dark = silent, bright = many
    spikes (``0..max_level`` per cell: levels × time steps)."""
    if raster.size == 0:
        return message_figure("no spikes recorded")
    fig = _figure()
    ax = fig.add_subplot()
    frames = raster.shape[1]
    extent = None
    if frame_s:
        extent = (0.0, frames * frame_s, raster.shape[0] - 0.5, -0.5)
    image = ax.imshow(raster, aspect="auto", interpolation="nearest", cmap="magma",
                      vmin=0, vmax=max(int(max_level), 1), extent=extent)
    ax.set_xlabel("time (s)" if frame_s else "frame")
    ax.set_ylabel("neuron")
    rate = float(raster.mean() / max(int(max_level), 1))
    ax.set_title(f"{title} · firing rate {rate:.3f}", fontsize=10)
    fig.colorbar(image, ax=ax, label="spikes", pad=0.01)
    return fig


def layer_of(neuron_name: str) -> str:
    """Group a neuron name by its block: ``encoder.layers.3.attn.qkv.neuron`` (and, in a whole
    ASR model, ``encoder.encoder.layers.3...``) → ``encoder 3``, ``postnet.acts.2`` →
    ``postnet.acts``, ``decoder.out_neuron`` → ``decoder.out_neuron``."""
    match = re.match(r"(.*?)\.?layers\.(\d+)(?:\.|$)", neuron_name)
    if match:
        return f"{match[1].rpartition('.')[2] or 'block'} {match[2]}"
    return re.sub(r"\.\d+$", "", neuron_name)


def firing_rates(report: EnergyReport, title: str) -> Figure:
    """Horizontal bars: spikes per neuron per binary step, per block, in model order."""
    groups: dict[str, list[float]] = {}
    for neuron in report.neurons:
        spikes_slots = groups.setdefault(layer_of(neuron.name), [0.0, 0.0])
        spikes_slots[0] += neuron.spikes
        spikes_slots[1] += neuron.slots
    if not groups:
        return message_figure("no spiking neurons measured")
    names = list(groups)
    rates = [s / n if n else 0.0 for s, n in groups.values()]
    fig = _figure((8.0, max(2.2, 0.28 * len(names) + 1.0)))
    ax = fig.add_subplot()
    y = np.arange(len(names))
    ax.barh(y, rates, color="#d95f02")
    ax.set_yticks(y, names, fontsize=8)
    ax.invert_yaxis()  # first layer on top
    ax.set_xlabel("firing rate (spikes / neuron / step)")
    ax.set_xlim(0, max(max(rates) * 1.15, 1e-3))
    for yi, rate in zip(y, rates, strict=True):
        ax.text(rate, yi, f" {rate:.3f}", va="center", fontsize=7)
    ax.set_title(f"{title} · mean {report.firing_rate:.3f}", fontsize=10)
    return fig


def energy_bars(report: EnergyReport, title: str) -> Figure:
    """Theoretical energy of one request (µJ) per scope of ``report`` (its parts, then the whole),
    each a pair of bars: the SNN's MAC (real-valued inputs) and AC (spike inputs) parts, stacked,
    against the same layers run as an ANN (all MACs), with their ratio."""
    parts = [*report.scopes, report] if isinstance(report, ScopedEnergyReport) else [report]
    fig = _figure((8.0, 1.4 + 0.55 * len(parts)))
    ax = fig.add_subplot()
    y = np.arange(len(parts))
    mac_uj = np.array([p.macs * p.e_mac_pj / 1e6 for p in parts])
    ac_uj = np.array([p.acs * p.e_ac_pj / 1e6 for p in parts])
    ann_uj = np.array([p.ann_energy_pj / 1e6 for p in parts])
    ax.barh(y - 0.2, mac_uj, height=0.38, color="#7570b3", label="SNN: MAC (real-valued inputs)")
    ax.barh(y - 0.2, ac_uj, height=0.38, left=mac_uj, color="#1b9e77", label="SNN: AC (spike inputs)")
    ax.barh(y + 0.2, ann_uj, height=0.38, color="#999999", label="same layers as ANN: MAC")
    for i, part in enumerate(parts):
        snn = mac_uj[i] + ac_uj[i]
        ratio = f"ANN / SNN {part.ann_energy_pj / part.energy_pj:.2f}×" if part.energy_pj else "no ratio"
        ax.text(snn, i - 0.2, f" {snn:.3g} µJ · {ratio}", va="center", fontsize=7)
        ax.text(ann_uj[i], i + 0.2, f" {ann_uj[i]:.3g} µJ", va="center", fontsize=7)
    ax.set_yticks(y, [part.scope for part in parts], fontsize=8)
    ax.invert_yaxis()  # parts in model order, the whole last
    ax.set_xlim(0, max(float(ann_uj.max()), float((mac_uj + ac_uj).max()), 1e-9) * 1.45)
    ax.set_xlabel("energy (µJ, 45 nm: MAC 4.6 pJ, AC 0.9 pJ)")
    ax.set_title(title, fontsize=10)
    fig.legend(fontsize=7, loc="outside lower center", ncols=3, frameon=False)
    return fig


def mel_spectrogram(mel: np.ndarray, frame_s: float | None = None) -> Figure:
    """``mel`` ``(frames, n_mels)`` (log-mel, as the model predicts it) as an image."""
    if mel.size == 0:
        return message_figure("empty spectrogram")
    fig = _figure()
    ax = fig.add_subplot()
    extent = None if not frame_s else (0.0, mel.shape[0] * frame_s, 0, mel.shape[1])
    image = ax.imshow(mel.T, aspect="auto", origin="lower", interpolation="nearest",
                      cmap="viridis", extent=extent)
    ax.set_xlabel("time (s)" if frame_s else "frame")
    ax.set_ylabel("mel bin")
    ax.set_title("predicted mel spectrogram", fontsize=10)
    fig.colorbar(image, ax=ax, pad=0.01)
    return fig
