"""What the demo's UI calls: plain functions, no gradio.

Each returns a result object holding everything its tab shows, and ``error``: ``None``, or a
one-line message for the user (bad upload, empty or too-long text, a model that does not
load…). Nothing here raises to the UI: unexpected failures are logged with their traceback
on the server and reported to the user as one line.
"""

from __future__ import annotations

import logging
import warnings
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ..audio import AudioError, load_audio, resample
from ..audio.segment import SILENCE_PEAK  # a muted microphone or an all-zero file
from ..energy import SpikeRecorder
from ..errors import SpikespeechError, first_line
from ..inference.synthesizer import MAX_SPEED, MIN_SPEED
from . import plots
from .limits import Limits
from .models import DemoModels, ModelLoadError
from .workspace import Workspace

log = logging.getLogger(__name__)


class UserError(SpikespeechError):
    """A problem with the user's input; its message is shown as is."""


@dataclass
class DemoState:
    """What every callback needs: the shared models, the limits, the output directory."""

    models: DemoModels
    limits: Limits = field(default_factory=Limits)
    workspace: Workspace = field(default_factory=Workspace)
    # whether web clients may load a pack from a server path (``--allow-model-loading``)
    allow_model_loading: bool = False

    def close(self) -> None:
        self.models.close()
        self.workspace.close()

    def __enter__(self) -> DemoState:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass
class TranscribeResult:
    text: str = ""
    info: str = ""  # Markdown: duration, decode time, RTF, energy (or the error)
    raster: Figure | None = None
    rates: Figure | None = None
    energy: Figure | None = None
    error: str | None = None


@dataclass
class SynthesizeResult:
    audio: str | None = None  # path of a wav inside the workspace
    info: str = ""  # Markdown: duration, synthesis time, RTF, phonemes (or the error)
    mel: Figure | None = None
    raster: Figure | None = None
    energy: Figure | None = None
    error: str | None = None


@dataclass
class RoundTripResult:
    audio: str | None = None
    text: str = ""
    info: str = ""
    error: str | None = None


@dataclass
class LoadResult:
    status: str  # Markdown
    card: str  # Markdown of the (possibly unchanged) model of that task
    scope: str = ""  # Markdown: what that model is for (its card's intended use)
    speakers: list[str] = field(default_factory=list)
    error: str | None = None


# ---- Transcribe ------------------------------------------------------------------------------
def transcribe(state: DemoState, audio_path: str | None) -> TranscribeResult:
    """Upload or recording (a file path) → text, timing, raster, firing rates, energy."""
    try:
        with state.models.lock:  # the model's sample rate is read while no switch can happen
            samples = _read_upload(state, audio_path)
            transcriber = state.models.transcriber
            recorder = _recorder(transcriber.encoder)
            with recorder or nullcontext():
                result = transcriber.transcribe(samples, energy=True)
    except UserError as exc:
        return TranscribeResult(info=_error_md(str(exc)), error=str(exc))
    except Exception as exc:  # a bug or a model failure: the server log has the details
        return TranscribeResult(**_unexpected("transcribe", exc))
    info = [_timing("decode", result.duration_s, result.decode_s, result.rtf)]
    if not result.text:
        info.append("*Nothing was recognised in this audio.*")
    info.append(_energy_line(result.energy))
    return TranscribeResult(
        text=result.text,
        info="\n\n".join(info),
        raster=_raster_figure(recorder, "encoder", result.duration_s),
        rates=plots.firing_rates(result.energy, "encoder firing rate per block"),
        energy=plots.energy_bars(result.energy, f"energy per scope of this decode ({transcriber.mode})"),
    )


def _read_upload(state: DemoState, audio_path: str | None) -> np.ndarray:
    """Checks in cheap-first order; returns mono float32 at the ASR model's rate."""
    if not audio_path:
        raise UserError("No audio: record something or upload an audio file first.")
    path = Path(audio_path)
    limits = state.limits
    try:
        size = path.stat().st_size
    except OSError:
        raise UserError(f"{path.name}: the upload could not be read; try again.") from None
    if size > limits.max_upload_bytes:
        raise UserError(f"{path.name}: the file is {size / 2**20:.1f} MB; the limit is "
                        f"{limits.max_upload_mb:g} MB.")
    seconds = _header_seconds(path)
    if seconds is not None and seconds > limits.max_audio_seconds:
        raise UserError(_too_long(seconds, limits))
    try:
        samples = load_audio(path, state.models.transcriber.sample_rate)
    except AudioError as exc:
        raise UserError(_without_dir(str(exc), path)) from None
    seconds = len(samples) / state.models.transcriber.sample_rate
    if seconds > limits.max_audio_seconds:
        raise UserError(_too_long(seconds, limits))
    if len(samples) < state.models.transcriber.min_samples:
        raise UserError(f"{path.name}: the audio is too short ({seconds:.2f} s); speak for at "
                        "least half a second.")
    if float(np.abs(samples).max()) < SILENCE_PEAK:
        raise UserError(f"{path.name}: the audio is silent (is the microphone muted?).")
    return samples


def _header_seconds(path: Path) -> float | None:
    """Duration from the file header, so an over-long file is refused before decoding it."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except Exception:  # not a format libsndfile knows: load_audio decides
        return None
    return info.frames / info.samplerate if info.samplerate else None


def _too_long(seconds: float, limits: Limits) -> str:
    return f"The audio is {seconds:.1f} s long; the limit is {limits.max_audio_seconds:g} s."


def _without_dir(message: str, path: Path) -> str:
    # uploads live under gradio's cache: name the file, not the server's directories
    return message.replace(str(path), path.name)


# ---- Synthesize ------------------------------------------------------------------------------
def synthesize(state: DemoState, text: str | None, speed: float | None = 1.0,
               speaker: str | None = None) -> SynthesizeResult:
    """Text → wav in the workspace, timing, phonemes, mel spectrogram, raster, energy."""
    try:
        text = _check_text(state, text)
        speed = _check_speed(speed)
        with state.models.lock:
            synthesis, recorder, notes = _synthesize(state, text, speed, speaker)
        path = state.workspace.write_wav(synthesis.wav, synthesis.sample_rate)
    except UserError as exc:
        return SynthesizeResult(info=_error_md(str(exc)), error=str(exc))
    except Exception as exc:
        return SynthesizeResult(**_unexpected("synthesize", exc))
    mel = np.concatenate(synthesis.mels, axis=0) if synthesis.mels else np.zeros((0, 0))
    info = [_timing("synthesis", synthesis.duration_s, synthesis.synth_s, synthesis.rtf),
            "**Phonemes:** " + " ‖ ".join(f"`{p}`" for p in synthesis.phonemes),
            *(f"*Note: {note}*" for note in notes),
            _energy_line(synthesis.energy)]
    return SynthesizeResult(
        audio=str(path),
        info="\n\n".join(info),
        mel=plots.mel_spectrogram(mel),
        raster=_raster_figure(recorder, "acoustic model"),
        energy=plots.energy_bars(synthesis.energy, "energy per scope of the acoustic model (no vocoder)"),
    )


def _synthesize(state: DemoState, text: str, speed: float, speaker: str | None):
    """Run the TTS model with a spike recorder; warnings (dropped characters) become notes."""
    synthesizer = state.models.synthesizer
    if not synthesizer.speakers:
        speaker = None  # a hidden speaker box may still send a stale value
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            synthesizer.speaker_id(speaker)
            recorder = _recorder(synthesizer.acoustic)
            with recorder or nullcontext():
                synthesis = synthesizer.synthesize(text, speed=speed, speaker=speaker, energy=True)
        except ValueError as exc:  # nothing to say, unknown speaker
            raise UserError(str(exc).replace("--speaker ", "speaker ")) from None
    notes = list(dict.fromkeys(str(w.message) for w in caught
                               if issubclass(w.category, UserWarning)))
    return synthesis, recorder, notes


def _recorder(model) -> SpikeRecorder | None:
    """A recorder on the model's default neuron; ``None`` for a model without spiking neurons
    (an ANN baseline pack still works in the demo, without a raster)."""
    try:
        return SpikeRecorder(model)
    except ValueError:
        return None


def _raster_figure(recorder: SpikeRecorder | None, scope: str, duration_s: float | None = None) -> Figure:
    if recorder is None:
        return plots.message_figure(f"this {scope} has no spiking neurons")
    raster = recorder.raster()
    # ASR: encoder frames span the input evenly; TTS: frames are mel frames (sentence pauses
    # have none), so they stay frames
    frame_s = duration_s / raster.shape[1] if duration_s and raster.size else None
    return plots.spike_raster(raster, recorder.name, recorder.max_level, frame_s)


def _check_text(state: DemoState, text: str | None) -> str:
    text = (text or "").strip()
    if not text:
        raise UserError("No text: type something to say first.")
    limit = state.limits.max_text_chars
    if len(text) > limit:
        raise UserError(f"The text has {len(text)} characters; the limit is {limit}.")
    return text


def _check_speed(speed: float | None) -> float:
    if speed is None:
        return 1.0
    try:
        speed = float(speed)
    except (TypeError, ValueError):
        raise UserError(f"speed must be a number, got {speed!r}") from None
    if not MIN_SPEED <= speed <= MAX_SPEED:
        raise UserError(f"speed must be between {MIN_SPEED} and {MAX_SPEED} (got {speed:g}).")
    return speed


# ---- Round trip ------------------------------------------------------------------------------
def roundtrip(state: DemoState, text: str | None) -> RoundTripResult:
    """Text → speech (default speaker, speed 1) → the ASR model's transcript of that speech."""
    try:
        text = _check_text(state, text)
        with state.models.lock:
            synthesis, _, _ = _synthesize(state, text, 1.0, None)
            transcriber = state.models.transcriber
            samples = synthesis.wav
            if synthesis.sample_rate != transcriber.sample_rate:
                samples = resample(samples, synthesis.sample_rate, transcriber.sample_rate)
            if len(samples) < transcriber.min_samples:
                raise UserError("The synthesized audio is too short to transcribe.")
            transcript = transcriber.transcribe(samples)
        path = state.workspace.write_wav(synthesis.wav, synthesis.sample_rate, stem="roundtrip")
    except UserError as exc:
        return RoundTripResult(info=_error_md(str(exc)), error=str(exc))
    except Exception as exc:
        return RoundTripResult(**_unexpected("round trip", exc))
    info = [f"**Typed:** {text}", f"**Recognised:** {transcript.text or '*(nothing)*'}",
            _timing("synthesis", synthesis.duration_s, synthesis.synth_s, synthesis.rtf),
            _timing("decode", transcript.duration_s, transcript.decode_s, transcript.rtf)]
    return RoundTripResult(audio=str(path), text=transcript.text, info="\n\n".join(info))


# ---- Models ----------------------------------------------------------------------------------
def load_model(state: DemoState, task: str, path: str | None) -> LoadResult:
    """Replace the ``task`` model with the pack at ``path``; on failure the old one stays.

    Only when ``state.allow_model_loading``. Any client that reaches the server can call this,
    so a failure says the same for every path (missing, unreadable, not a pack, a pack of the
    other task, a broken pack): the client learns nothing about the server's files beyond
    "this is no loadable model"; the reason goes to the server's log, for whoever runs it.
    """
    if not state.allow_model_loading:
        error = "loading models is off (start the demo with --allow-model-loading)"
        return _load_result(state, task, error)
    text = (path or "").strip().strip("'\"")
    if not text:
        error = "type the path of a packed model (.zip or directory) first"
        return _load_result(state, task, error)
    try:
        status = state.models.switch(task, text)
    except Exception as exc:
        if isinstance(exc, ModelLoadError):
            log.warning("web client: loading %s model %s failed: %s", task, text, exc)
        else:
            log.exception("web client: loading %s model %s failed", task, text)
        error = (f"{Path(text).name or text}: no loadable {task.upper()} model there (missing, not "
                 "readable by the server, not a packed model of this task, or broken; the "
                 "server's log says which)")
        return _load_result(state, task, error)
    return _load_result(state, task, error=None, status=status)


def _load_result(state: DemoState, task: str, error: str | None, status: str = "") -> LoadResult:
    if error is not None:
        status = _error_md(f"{error}; the current model stays loaded")
    return LoadResult(status=status, card=state.models.card(task), scope=state.models.scope(task),
                      speakers=state.models.speakers, error=error)


# ---- formatting ------------------------------------------------------------------------------
def _timing(what: str, duration_s: float, seconds: float, rtf: float) -> str:
    return (f"**Duration** {duration_s:.2f} s · **{what} time** {seconds:.2f} s · "
            f"**RTF** {rtf:.3f}")


def _energy_line(report) -> str:
    """The whole model's energy vs the same layers as an ANN, then each scope's, every ratio
    next to its scope's name; the firing rate of the spiking neurons."""
    if report is None:
        return ""
    parts = []
    for part in [report.whole(), *report.scopes]:
        ratio = "no ratio" if part.ratio is None else f"{part.ratio:.2f}× less"
        per = part.per_unit_pj(part.energy_pj)
        unit = "" if per is None else f", {per / 1e6:.3g} µJ per {part.unit}"
        parts.append(f"**{part.scope}** {part.energy_pj / 1e6:.3g} µJ vs {part.ann_energy_pj / 1e6:.3g} µJ "
                     f"as an ANN ({ratio}{unit})")
    return f"**Energy** {parts[0]} · " + " · ".join(parts[1:]) + \
        f" · **firing rate** {report.firing_rate:.3f}"


def _error_md(message: str) -> str:
    return f"⚠️ **{message}**"


def _unexpected(what: str, exc: Exception) -> dict:
    """``info``/``error`` fields for a failure that is not the user's: one line for them,
    the traceback for the server log."""
    log.error("%s failed", what, exc_info=exc)
    message = f"{what} failed ({type(exc).__name__}: {first_line(exc, 'no details')})"
    return {"info": _error_md(message), "error": message}
