"""The gradio page of the demo, and serving it.

:func:`build_app` lays out the four tabs and wires them to :mod:`.callbacks`; the named API
endpoints (``/transcribe``, ``/synthesize``, ``/roundtrip``) are the buttons' events, so
``gradio_client`` sees what the page does. Every model-using event shares one concurrency
group of size 1: the models are shared, requests are served one at a time and the others
wait in a queue of at most ``limits.queue_size``. :func:`serve` launches on ``host``
(127.0.0.1 by default) without a share link, with gradio's upload cap, and blocks until
Ctrl-C or SIGTERM. No ``allowed_paths``: gradio serves only the files it created (uploads,
and copies of what the callbacks return from the demo's private workspace). The Models tab's
path box exists only when ``state.allow_model_loading``: gradio serves every event of the page
to any client of its queue API, hidden (``api_visibility: private``) or not, so an event that
is not built is the only one no client can call.
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # offline: no telemetry calls

import gradio as gr

from ..shutdown import sigterm_as_interrupt
from . import callbacks, memory
from .callbacks import DemoState

TITLE = "spikespeech: spiking neural network speech demo"
MODELS = "models"  # the concurrency group of every event that runs a model
PRIVATE = {"api_visibility": "private"}  # internal UI plumbing: no API endpoint
# gradio keeps a copy of every component's config (model cards included) per browser tab or
# API client, 10,000 of them by default: hundreds of MB on a busy demo. Our events keep no state
# between requests, so an evicted session only falls back to the page's initial config.
SESSIONS_KEPT = 64

INTRO = """# spikespeech demo
Speech recognition with **IML-Spikeformer** and speech synthesis with **SpikeVoice**: both are
spiking neural networks. Besides text and audio, each request shows the spikes of one layer,
the firing rate of every block, and the theoretical energy against the same network run as a
conventional (ANN) model, per part of the model (speech recognition: front-end, encoder blocks,
decoder, CTC head) and whole. Everything runs on this machine."""


def build_app(state: DemoState) -> gr.Blocks:
    """The demo page for ``state`` (models, limits, workspace); queue configured, not launched."""
    limits = state.limits
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        gr.Markdown(INTRO)
        with gr.Tab("Transcribe"):
            asr_scope = _transcribe_tab(state)
        with gr.Tab("Synthesize"):
            speaker = _synthesize_tab(state)
        with gr.Tab("Round trip"):
            _roundtrip_tab(state)
        with gr.Tab("Models"):
            asr_card, tts_card = _models_tab(state, speaker, asr_scope)

        def refresh():
            # a reloaded page shows the models loaded now, not those of the first page load
            return (state.models.card("asr"), state.models.card("tts"), state.models.scope("asr"),
                    _speaker_update(state))

        demo.load(refresh, outputs=[asr_card, tts_card, asr_scope, speaker], concurrency_limit=None,
                  **PRIVATE)
    demo.queue(max_size=limits.queue_size, default_concurrency_limit=1)
    return demo


def _transcribe_tab(state: DemoState) -> gr.Markdown:
    """The Transcribe tab; returns its Markdown of what the ASR model is for (a switch updates it)."""
    gr.Markdown(f"Record or upload speech (at most {state.limits.max_audio_seconds:g} s, "
                f"{state.limits.max_upload_mb:g} MB; any sample rate, mixed to mono).")
    with gr.Row():
        with gr.Column():
            # next to the recorder: a sentence spoken to a digits model gives nonsense, say why first
            scope = gr.Markdown(state.models.scope("asr"), elem_id="asr-scope")
            audio = gr.Audio(sources=["microphone", "upload"], type="filepath", label="Speech",
                             elem_id="asr-audio")
            button = gr.Button("Transcribe", variant="primary", elem_id="asr-button")
        with gr.Column():
            text = gr.Textbox(label="Transcript", interactive=False, elem_id="asr-text")
            info = gr.Markdown(elem_id="asr-info")
    raster = gr.Plot(label="Spike raster of an encoder layer", elem_id="asr-raster")
    with gr.Row():
        rates = gr.Plot(label="Firing rate per block", elem_id="asr-rates")
        energy = gr.Plot(label="Energy vs ANN", elem_id="asr-energy")

    def run(audio_path):
        r = _respond(callbacks.transcribe(state, audio_path))
        return r.text, r.info, r.raster, r.rates, r.energy

    button.click(run, inputs=[audio], outputs=[text, info, raster, rates, energy],
                 api_name="transcribe", concurrency_id=MODELS)
    return scope


def _synthesize_tab(state: DemoState) -> gr.Dropdown:
    with gr.Row():
        with gr.Column():
            text = gr.Textbox(label=f"Text (at most {state.limits.max_text_chars} characters)", lines=3,
                              max_length=state.limits.max_text_chars, elem_id="tts-text",
                              placeholder="Type a sentence, e.g. The birch canoe slid on the smooth planks.")
            speed = gr.Slider(callbacks.MIN_SPEED, callbacks.MAX_SPEED, value=1.0, step=0.05,
                              label="Speed (> 1 is faster)", elem_id="tts-speed")
            speakers = state.models.speakers
            speaker = gr.Dropdown(choices=speakers, value=speakers[0] if speakers else None,
                                  label="Speaker", visible=len(speakers) > 1, elem_id="tts-speaker")
            button = gr.Button("Synthesize", variant="primary", elem_id="tts-button")
        with gr.Column():
            audio = gr.Audio(label="Synthesized speech", type="filepath", interactive=False,
                             elem_id="tts-audio")
            info = gr.Markdown(elem_id="tts-info")
    mel = gr.Plot(label="Mel spectrogram", elem_id="tts-mel")
    raster = gr.Plot(label="Spike raster of a mel-decoder layer", elem_id="tts-raster")
    energy = gr.Plot(label="Energy vs ANN", elem_id="tts-energy")

    def run(text_value, speed_value, speaker_value):
        r = _respond(callbacks.synthesize(state, text_value, speed_value, speaker_value))
        return r.audio, r.info, r.mel, r.raster, r.energy

    button.click(run, inputs=[text, speed, speaker], outputs=[audio, info, mel, raster, energy],
                 api_name="synthesize", concurrency_id=MODELS)
    return speaker


def _roundtrip_tab(state: DemoState) -> None:
    gr.Markdown("Type a sentence: the TTS model speaks it, then the ASR model transcribes what "
                "it said.")
    with gr.Row():
        with gr.Column():
            text = gr.Textbox(label="Text", lines=2, max_length=state.limits.max_text_chars,
                              elem_id="rt-text-in")
            button = gr.Button("Speak, then transcribe", variant="primary", elem_id="rt-button")
        with gr.Column():
            audio = gr.Audio(label="Synthesized speech", type="filepath", interactive=False,
                             elem_id="rt-audio")
            transcript = gr.Textbox(label="Transcript of the synthesized speech", interactive=False,
                                    elem_id="rt-text")
            info = gr.Markdown(elem_id="rt-info")

    def run(text_value):
        r = _respond(callbacks.roundtrip(state, text_value))
        return r.audio, r.text, r.info

    button.click(run, inputs=[text], outputs=[audio, transcript, info], api_name="roundtrip",
                 concurrency_id=MODELS)


def _models_tab(state: DemoState, speaker: gr.Dropdown,
                asr_scope: gr.Markdown) -> tuple[gr.Markdown, gr.Markdown]:
    with gr.Row():
        asr_card = gr.Markdown(state.models.card("asr"), elem_id="models-asr-card")
        tts_card = gr.Markdown(state.models.card("tts"), elem_id="models-tts-card")
    if state.allow_model_loading:
        _model_loader(state, speaker, asr_card, tts_card, asr_scope)
    return asr_card, tts_card


def _model_loader(state: DemoState, speaker: gr.Dropdown, asr_card: gr.Markdown, tts_card: gr.Markdown,
                  asr_scope: gr.Markdown) -> None:
    """The path box and its buttons: only built with ``--allow-model-loading``, so that without
    it no event exists that a client could call to load a server path."""
    gr.Markdown("### Use another model\nA packed model (`.zip` or directory made by "
                "`spikespeech pack`) on the machine running this demo.")
    path = gr.Textbox(label="Path of a packed model", elem_id="models-path",
                      placeholder="/path/to/model.zip")
    with gr.Row():
        load_asr = gr.Button("Load as ASR model", elem_id="models-load-asr")
        load_tts = gr.Button("Load as TTS model", elem_id="models-load-tts")
    status = gr.Markdown(elem_id="models-status")

    def run_asr(path_value):
        r = _respond(callbacks.load_model(state, "asr", path_value), success=True)
        return r.status, r.card, r.scope

    def run_tts(path_value):
        r = _respond(callbacks.load_model(state, "tts", path_value), success=True)
        return r.status, r.card, _speaker_update(state)

    # model switches queue with the requests, so none swaps a model under a running request
    load_asr.click(run_asr, inputs=[path], outputs=[status, asr_card, asr_scope], concurrency_id=MODELS,
                   **PRIVATE)
    load_tts.click(run_tts, inputs=[path], outputs=[status, tts_card, speaker], concurrency_id=MODELS,
                   **PRIVATE)


def _speaker_update(state: DemoState):
    speakers = state.models.speakers
    return gr.update(choices=speakers, value=speakers[0] if speakers else None, visible=len(speakers) > 1)


def _respond(result, success: bool = False):
    """Show a result's error as a gradio warning toast (its Markdown shows it too); give the
    memory the request freed back to the OS (:mod:`.memory`)."""
    memory.release_freed_memory()
    if result.error:
        gr.Warning(result.error)
    elif success:
        gr.Info(result.status.replace("`", ""))
    return result


# ---- serving -----------------------------------------------------------------------------
def launch_kwargs(state: DemoState, host: str = "127.0.0.1", port: int = 7860, share: bool = False) -> dict:
    """Arguments of ``Blocks.launch``: local bind, no share link unless asked, upload cap,
    no extra served paths, no node (SSR) server, no MCP server, no blocking."""
    return {
        "server_name": host, "server_port": port, "share": share,
        "max_file_size": state.limits.max_upload_bytes,
        "prevent_thread_lock": True, "quiet": True, "show_error": False,
        "ssr_mode": False, "mcp_server": False,
        "state_session_capacity": SESSIONS_KEPT,
    }


class LaunchError(RuntimeError):
    """The server could not start (e.g. the port is taken); one line for the user."""


def serve(state: DemoState, host: str = "127.0.0.1", port: int = 7860, share: bool = False) -> int:
    """Launch, print the local URL, block until Ctrl-C/SIGTERM; then stop and clean up."""
    memory.limit_malloc_arenas()  # before gradio starts its worker threads
    demo = build_app(state)
    try:
        try:
            _, local_url, share_url = demo.launch(**launch_kwargs(state, host, port, share))
        except OSError as exc:
            reason = str(exc).splitlines()[0].split(". ")[0].rstrip(".")  # not gradio's env-var hint
            raise LaunchError(f"cannot serve on {host}:{port}: {reason} (port in use? choose another "
                              "with --port)") from None
        print(f"spikespeech demo: running on {local_url} (Ctrl-C to stop)", flush=True)
        if share_url:
            print(f"spikespeech demo: public share link {share_url}", flush=True)
        try:
            with sigterm_as_interrupt():  # SIGTERM stops the server as Ctrl-C does: cleanups run
                while True:
                    time.sleep(0.5)
        except KeyboardInterrupt:
            print("spikespeech demo: stopping", file=sys.stderr, flush=True)
        return 0
    finally:
        demo.close()
        state.close()


def main(argv: list[str] | None = None) -> int:
    """``python demo/app.py [options]``: the same as ``spikespeech demo [options]``."""
    from ..cli.main import main as cli_main

    return cli_main(["demo", *(sys.argv[1:] if argv is None else argv)])
