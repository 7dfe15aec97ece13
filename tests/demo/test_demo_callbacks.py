"""The web demo without a browser or server: its callbacks, its limits, its gradio page, its CLI.

Uses randomly initialised tiny packs (the ``packed`` ASR and ``packed_tiny_model`` TTS
fixtures of _tiny_packs.py): these tests check behaviour (messages,
figures, files, endpoints), not accuracy, except one that transcribes a real FSDD digit with a
trained pack when one is present.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from _helpers import shared_data
from matplotlib.figure import Figure

pytest.importorskip("espnet2")
pytest.importorskip("gradio")


from spikespeech.cli.main import build_parser
from spikespeech.cli.main import main as cli_main
from spikespeech.demo import callbacks
from spikespeech.demo.callbacks import DemoState
from spikespeech.demo.limits import MIB, Limits
from spikespeech.demo.models import DemoModels, ModelLoadError, card_scope
from spikespeech.demo.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
ASR_RATE = 16000  # the tiny ASR pack (spikespeech/conf/asr/tiny.yaml)
TTS_RATE = 22050  # the tiny TTS pack
DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
CONTRACT_IDS = ("asr-audio", "asr-button", "asr-text", "asr-info", "tts-text", "tts-speed", "tts-button",
                "tts-audio", "tts-info", "models-asr-card", "models-tts-card")


@pytest.fixture(scope="module")
def models(packed, packed_tiny_model):
    models = DemoModels(packed, packed_tiny_model, beam_size=2)
    yield models
    models.close()


@pytest.fixture
def state(models):
    """Default limits, except 3 s of audio: the too-long case stays small and fast."""
    state = DemoState(models, Limits(max_audio_seconds=3.0))
    yield state
    state.workspace.close()


def _wav(path: Path, samples: np.ndarray, rate: int = ASR_RATE) -> str:
    sf.write(path, samples, rate, subtype="PCM_16")
    return str(path)


def _speechlike(seconds: float, rate: int = ASR_RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return 0.3 * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))


def _one_line_error(result, *fragments: str) -> None:
    """A user-facing message: one line, no traceback, shown in the info Markdown too."""
    assert result.error, "expected an error message"
    assert "\n" not in result.error and "Traceback" not in result.error
    for fragment in fragments:
        assert fragment in result.error
    shown = result.status if hasattr(result, "status") else result.info
    assert result.error in shown


# ---- Transcribe ------------------------------------------------------------------------------
def test_transcribe_returns_text_timing_and_figures(state, tmp_path):
    result = callbacks.transcribe(state, _wav(tmp_path / "tone.wav", _speechlike(1.0, 8000), 8000))
    assert result.error is None and isinstance(result.text, str)
    for word in ("Duration", "decode time", "RTF", "Energy", "firing rate"):
        assert word in result.info
    for figure in (result.raster, result.rates, result.energy):
        assert isinstance(figure, Figure)
    assert "layers.1.pre_attn_neuron" in result.raster.axes[0].get_title()  # the tiny model's middle block


@pytest.mark.parametrize("case,fragments", [
    ("missing", ("No audio",)),
    ("not audio", ("upload.wav", "not a readable audio file")),
    ("empty", ("upload.wav", "empty file")),
    ("too short", ("too short",)),
    ("too long", ("3.5 s long", "limit is 3 s")),
    ("silence", ("silent",)),
    ("too big", ("MB", "limit is 0.01 MB")),
])
def test_transcribe_bad_uploads_give_one_line(case, fragments, state, tmp_path):
    path = tmp_path / "upload.wav"
    if case == "not audio":
        path.write_text("this is not audio\n" * 20)
    elif case == "empty":
        path.write_bytes(b"")
    elif case == "too short":
        _wav(path, _speechlike(0.005))
    elif case == "too long":
        _wav(path, _speechlike(3.5))
    elif case == "silence":
        _wav(path, np.zeros(ASR_RATE))
    elif case == "too big":
        _wav(path, _speechlike(1.0))
        state = DemoState(state.models, Limits(max_upload_mb=0.01), state.workspace)
    result = callbacks.transcribe(state, None if case == "missing" else str(path))
    _one_line_error(result, *fragments)
    assert result.text == "" and result.raster is None
    assert str(tmp_path) not in result.error  # the server's directories are not shown


def test_transcribe_reports_model_failures_without_a_traceback(state, tmp_path, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("out of memory\nwith details on a second line")

    monkeypatch.setattr(state.models.transcriber, "transcribe", broken)
    result = callbacks.transcribe(state, _wav(tmp_path / "a.wav", _speechlike(1.0)))
    _one_line_error(result, "RuntimeError: out of memory")
    assert "Traceback" in caplog.text  # the details go to the server log


def test_a_real_digit_is_recognised(packed_tiny_model, tmp_path):
    candidates = [ROOT / "spikespeech/models/kathleen_fsdd_asr.zip",
                  ROOT / "egs/fsdd/asr1/exp/asr_train_asr_spiking/model.zip"]
    pack = next((p for p in candidates if p.is_file()), None)
    if pack is None:
        pytest.skip("no trained FSDD-capable ASR pack here (shipped default or egs/fsdd dev pack)")
    clip = shared_data("fsdd") / "recordings" / "7_george_3.wav"  # FSDD test take
    models = DemoModels(pack, packed_tiny_model)
    try:
        result = callbacks.transcribe(DemoState(models), str(clip))
    finally:
        models.close()
    assert result.error is None and "seven" in result.text.lower().split()


# ---- Synthesize ------------------------------------------------------------------------------
def test_synthesize_writes_audio_only_into_its_workspace(state):
    result = callbacks.synthesize(state, "Hello world. It costs $3.", 1.5, None)
    assert result.error is None
    path = Path(result.audio)
    assert path.parent == state.workspace.root and state.workspace.owns(path)
    audio, rate = sf.read(path)
    assert rate == TTS_RATE and len(audio) > 0 and np.isfinite(audio).all()
    for word in ("Duration", "synthesis time", "RTF", "Phonemes", "Energy"):
        assert word in result.info
    for figure in (result.mel, result.raster, result.energy):
        assert isinstance(figure, Figure)
    assert "decoder.layers" in result.raster.axes[0].get_title()
    state.workspace.close()
    assert not state.workspace.root.exists() and not path.exists()


@pytest.mark.parametrize("text,speed,fragments", [
    (None, 1.0, ("No text",)),
    ("   \n ", 1.0, ("No text",)),
    ("a" * 501, 1.0, ("501 characters", "limit is 500")),
    ("?!... ;", 1.0, ("nothing to say",)),
    ("😀😀", 1.0, ("nothing to say",)),
    ("Hello.", 3.0, ("speed must be between 0.5 and 2.0",)),
    ("Hello.", "fast", ("speed must be a number",)),
])
def test_synthesize_bad_text_gives_one_line(text, speed, fragments, state):
    result = callbacks.synthesize(state, text, speed, None)
    _one_line_error(result, *fragments)
    assert result.audio is None and list(state.workspace.root.iterdir()) == []


def test_a_stale_speaker_is_ignored_by_a_one_speaker_model(state):
    assert state.models.speakers == []
    assert callbacks.synthesize(state, "Hello.", 1.0, "bob").error is None


def test_workspace_keeps_only_the_newest_files():
    with Workspace(keep=2) as workspace:
        paths = [workspace.write_wav(np.zeros(100, dtype=np.float32), 8000) for _ in range(3)]
        assert [p.exists() for p in paths] == [False, True, True]
        assert not workspace.owns("/etc/passwd")
    assert not workspace.root.exists()


def test_plots_cope_with_models_without_spikes():
    import torch

    from spikespeech.demo import plots
    from spikespeech.energy import EnergyReport

    assert callbacks._recorder(torch.nn.Linear(2, 2)) is None  # e.g. an ANN baseline pack
    figures = [callbacks._raster_figure(None, "encoder"), plots.firing_rates(EnergyReport([]), "x"),
               plots.energy_bars(EnergyReport([]), "x"), plots.mel_spectrogram(np.zeros((0, 80))),
               plots.spike_raster(np.zeros((0, 0)), "x", 4)]
    assert all(isinstance(f, Figure) for f in figures)
    assert plots.layer_of("encoder.layers.3.attn.qkv.neuron") == "encoder 3"
    assert plots.layer_of("postnet.acts.2") == "postnet.acts"


# ---- Round trip ------------------------------------------------------------------------------
def test_roundtrip_speaks_then_transcribes(state, monkeypatch):
    text = "Hello world, this is a longer sentence to speak and hear."
    result = callbacks.roundtrip(state, text)
    if result.error:  # the untrained model may speak too briefly to transcribe: said in one line
        _one_line_error(result, "too short")
    # a model that speaks for one second: the whole path, resampled 22.05 -> 16 kHz
    synthesizer = state.models.synthesizer
    real = synthesizer.synthesize

    def one_second(text, **kwargs):
        out = real(text, **kwargs)
        out.wav = _speechlike(1.0, TTS_RATE).astype(np.float32)
        return out

    monkeypatch.setattr(synthesizer, "synthesize", one_second)
    result = callbacks.roundtrip(state, text)
    assert result.error is None and state.workspace.owns(result.audio)
    assert sf.info(result.audio).samplerate == TTS_RATE and isinstance(result.text, str)
    assert "Recognised" in result.info and "decode time" in result.info
    _one_line_error(callbacks.roundtrip(state, ""), "No text")


# ---- Models ----------------------------------------------------------------------------------
def test_cards_describe_both_models(models):
    asr, tts = models.card("asr"), models.card("tts")
    assert "model.zip" in asr and "16000 Hz" in asr and "tiny test model" in asr  # the pack's card
    assert "tts.zip" in tts and "22050 Hz" in tts and "no model card" in tts


def test_scope_is_the_cards_intended_use_section():
    shipped = (ROOT / "spikespeech/models/kathleen_fsdd_asr.md").read_text(encoding="utf-8")
    scope = card_scope(shipped)
    assert scope.startswith("- Spoken English digits") and "Read English sentences" in scope
    assert "## " not in scope and "Free Spoken Digit Dataset" not in scope  # that section only
    # no such section: the first paragraph of prose; no prose, or no card: nothing
    assert card_scope("# A model\n\nDigits only.\nEnglish.\n\n## Data\nFSDD") == "Digits only.\nEnglish."
    assert card_scope("# tiny test model\n") is None and card_scope(None) is None


def test_scope_of_a_pack_without_one_says_so(models):
    scope = models.scope("asr")
    assert "`model.zip`" in scope and "does not say" in scope


def test_model_loading_is_off_unless_allowed(models, packed, tmp_path):
    state = DemoState(models)  # the default, as `spikespeech demo` without --allow-model-loading
    before = models.transcriber
    result = callbacks.load_model(state, "asr", str(packed))
    _one_line_error(result, "loading models is off", "--allow-model-loading")
    assert models.transcriber is before


# a web client may send any path: every failure reads the same, so it cannot tell a missing file
# from an unreadable one or one that is no pack; the reason goes to the server's log only
SAME_FOR_EVERY_PATH = "no loadable ASR model there"


@pytest.mark.parametrize("case,fragments", [
    ("empty", ("type the path",)),
    ("missing", ("nope.zip", SAME_FOR_EVERY_PATH)),
    ("not a pack", ("junk.zip", SAME_FOR_EVERY_PATH)),
    ("wrong task", ("tts.zip", SAME_FOR_EVERY_PATH)),
    ("a directory", ("etc", SAME_FOR_EVERY_PATH)),
])
def test_a_bad_model_path_keeps_the_old_model(case, fragments, state, packed_tiny_model, tmp_path, caplog):
    state.allow_model_loading = True
    path = {"empty": "  ", "missing": str(tmp_path / "nope.zip"),
            "not a pack": str(tmp_path / "junk.zip"), "wrong task": str(packed_tiny_model),
            "a directory": "/etc"}[case]
    (tmp_path / "junk.zip").write_text("not a zip")
    before, card = state.models.transcriber, state.models.card("asr")
    result = callbacks.load_model(state, "asr", path)
    _one_line_error(result, *fragments)
    assert "stays loaded" in result.status
    assert state.models.transcriber is before and result.card == card
    assert callbacks.transcribe(state, None).error  # still answering
    assert str(tmp_path) not in result.error
    if case != "empty":  # word for word what a path that surely does not exist gets
        reference = callbacks.load_model(state, "asr", "/no/such/dir/x.zip").error
        assert result.error.split(": ", 1)[1] == reference.split(": ", 1)[1]
    if case == "missing":  # the server's log names the reason
        assert "model not found" in caplog.text


def test_a_broken_pack_keeps_the_old_model(state, packed, tmp_path):
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(packed) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, b"garbage" if item.filename == "model.pth" else data)
    before = state.models.transcriber
    state.allow_model_loading = True
    result = callbacks.load_model(state, "asr", str(broken))
    _one_line_error(result, SAME_FOR_EVERY_PATH)
    assert state.models.transcriber is before


def test_switching_models_closes_the_old_one(packed, packed_tiny_model, monkeypatch):
    models = DemoModels(packed, packed_tiny_model, beam_size=2)
    with DemoState(models, allow_model_loading=True) as state:
        old = state.models.transcriber
        closed = []
        monkeypatch.setattr(old, "close", lambda: closed.append(old))
        result = callbacks.load_model(state, "asr", f"  '{packed}' ")  # pasted with quotes
        assert result.error is None and "Loaded ASR model" in result.status
        assert state.models.transcriber is not old and closed == [old]
        assert result.speakers == [] and result.scope == state.models.scope("asr")


def test_missing_default_model_is_a_clear_error(monkeypatch, packed_tiny_model, tmp_path):
    import spikespeech.models as shipped

    monkeypatch.setattr(shipped, "HERE", tmp_path)  # an installation without its models
    with pytest.raises(ModelLoadError, match="default ASR model is missing.*--asr-model"):
        DemoModels(None, packed_tiny_model)


# ---- the gradio page (built, not served) ----------------------------------------------------
def _endpoint(demo, name):
    fn = next(f for f in demo.fns.values() if f.api_name == name)
    return fn, [b.elem_id for b in fn.inputs], [b.elem_id for b in fn.outputs]


def test_build_app_exposes_the_named_endpoints(state):
    from spikespeech.demo.app import build_app, launch_kwargs

    state.allow_model_loading = True  # the page with every event (the path box's too)
    demo = build_app(state)
    public = {f.api_name for f in demo.fns.values() if getattr(f, "api_visibility", "public") == "public"}
    assert public == {"transcribe", "synthesize", "roundtrip"}
    fn, inputs, outputs = _endpoint(demo, "transcribe")
    assert inputs == ["asr-audio"] and outputs[:2] == ["asr-text", "asr-info"]
    assert fn.inputs[0].type == "filepath" and set(fn.inputs[0].sources) == {"microphone", "upload"}
    _, inputs, outputs = _endpoint(demo, "synthesize")
    assert inputs == ["tts-text", "tts-speed", "tts-speaker"] and outputs[:2] == ["tts-audio", "tts-info"]
    _, inputs, outputs = _endpoint(demo, "roundtrip")
    assert len(inputs) == 1 and outputs[0] == "rt-audio"
    # every event that runs a model is in one group of one: requests are served one at a time
    model_events = [f for f in demo.fns.values() if f.concurrency_id == "models"]
    assert len(model_events) == 5 and all(f.concurrency_limit in ("default", 1) for f in model_events)
    assert demo._queue.max_size == 16 and demo._queue.default_concurrency_limit == 1
    ids = {block.elem_id for block in demo.blocks.values()}
    assert set(CONTRACT_IDS) <= ids and "models-path" in ids
    # the ASR model's scope is shown in the Transcribe tab, and follows a switch and a page reload
    scope = next(b for b in demo.blocks.values() if b.elem_id == "asr-scope")
    assert scope.value == state.models.scope("asr")
    updates_scope = [f for f in demo.fns.values() if scope in f.outputs]
    assert len(updates_scope) == 2  # the page load and the ASR switch
    tabs = [b.label for b in demo.blocks.values() if type(b).__name__ == "Tab"]
    assert tabs == ["Transcribe", "Synthesize", "Round trip", "Models"]
    speaker = next(b for b in demo.blocks.values() if b.elem_id == "tts-speaker")
    assert speaker.visible is False  # a one-speaker model
    options = launch_kwargs(state)
    assert options["server_name"] == "127.0.0.1" and options["share"] is False
    assert 0 < options["state_session_capacity"] <= 100  # gradio's 10,000 sessions grow memory
    assert options["max_file_size"] == 10 * MIB and "allowed_paths" not in options
    demo.close()


def test_without_model_loading_the_page_has_no_loader(state):
    from spikespeech.demo.app import build_app

    assert state.allow_model_loading is False  # the default
    demo = build_app(state)
    ids = {block.elem_id for block in demo.blocks.values()}
    assert set(CONTRACT_IDS) <= ids
    assert not {"models-path", "models-load-asr", "models-load-tts", "models-status"} & ids
    # what is left: the three endpoints and the page load, none with a text box for a path
    events = sorted(f.api_name or f.name for f in demo.fns.values())
    assert len(events) == 4 and {"transcribe", "synthesize", "roundtrip"} < set(events), events
    demo.close()


def test_the_app_serves_no_file_it_did_not_create(state):
    from fastapi.testclient import TestClient
    from gradio.routes import App

    from spikespeech.demo.app import build_app

    client = TestClient(App.create_app(build_app(state)))
    for path in ("/etc/passwd", str(ROOT / "README.md")):
        assert client.get(f"/gradio_api/file={path}").status_code in (403, 404)


# ---- command line ----------------------------------------------------------------------------
def test_cli_defaults_match_the_contract():
    args = build_parser().parse_args(["demo"])
    assert (args.host, args.port, args.share) == ("127.0.0.1", 7860, False)
    assert args.asr_model is None and args.tts_model is None  # the shipped defaults
    assert args.allow_model_loading is False
    limits = (args.max_upload_mb, args.max_text_chars, args.max_audio_seconds, args.queue_size)
    assert limits == (10, 500, 60, 16)
    assert Limits() == Limits(10.0, 500, 60.0, 16)


def test_cli_bad_models_fail_before_serving(packed, tmp_path, capsys):
    assert cli_main(["demo", "--asr-model", str(tmp_path / "nope.zip")]) == 2
    missing = tmp_path / "nope.zip"
    assert capsys.readouterr().err == f"spikespeech demo: error: --asr-model {missing}: model not found\n"
    assert cli_main(["demo", "--asr-model", str(packed), "--tts-model", str(packed)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("spikespeech demo: error: --tts-model ") and "not 'tts'" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("flags,fragment", [
    (["--host", "0.0.0.0"], "--host 0.0.0.0: any client on the network"),
    (["--host", "192.168.1.5"], "--host 192.168.1.5: any client on the network"),
    (["--host", "myhost.example"], "--host myhost.example: any client on the network"),
    (["--share"], "--share: anyone with the share link"),
])
def test_cli_refuses_model_loading_beyond_this_machine(flags, fragment, capsys):
    assert cli_main(["demo", "--allow-model-loading", *flags]) == 2  # before any model loads
    err = capsys.readouterr().err
    assert err.startswith("spikespeech demo: error: --allow-model-loading with ") and fragment in err
    assert err.count("\n") == 1


def test_loopback_hosts():
    from spikespeech.cli.demo import is_loopback

    assert all(is_loopback(h) for h in ("127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "10.0.0.1", "example.org", ""))


def test_demo_app_py_runs_from_anywhere(tmp_path):
    run = subprocess.run([sys.executable, str(ROOT / "demo/app.py"), "--tts-model", "nope.zip"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert run.stderr == "spikespeech demo: error: --tts-model nope.zip: model not found\n"
