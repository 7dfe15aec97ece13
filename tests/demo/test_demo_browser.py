"""The web demo in a real browser: headless Chromium driven by Playwright against the running server.

Transcribe tab: upload an FSDD test clip, see its digit in the transcript box. Synthesize tab: type
a sentence, get a playable audio element. A full-page screenshot of each tab is saved as a test
artefact (``test-artifacts/`` or ``$SPIKESPEECH_TEST_ARTIFACTS``), also when the test fails.
"""

from __future__ import annotations

import re
import time

import pytest
from _browser import LAUNCH_ARGS, ensure_chromium
from _demo_server import artifacts_dir, shared_demo_server
from _helpers import shared_data
from playwright.sync_api import sync_playwright

pytestmark = pytest.mark.slow

PAGE_TIMEOUT_S = 60  # the page and its widgets
RESULT_TIMEOUT_S = 240  # one request, with a first-call warm-up on a busy runner
DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
CLIP = (7, "george", 3)  # digit, speaker, take: FSDD's test split is takes 0-4
SENTENCE = "The birch canoe slid on the smooth planks."
MIN_SPEECH_S = 0.2  # far below any real reading of SENTENCE, far above a degenerate model


@pytest.fixture(scope="module")
def demo_server(request, tmp_path_factory):
    return shared_demo_server(request, tmp_path_factory)


@pytest.fixture(scope="session")
def chromium_executable():
    return ensure_chromium()  # installs Debian's chromium when missing


@pytest.fixture(scope="module")
def browser(chromium_executable):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium_executable), headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=False)
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_S * 1000)
    page.console_errors = []
    page.on("pageerror", lambda exc: page.console_errors.append(f"page error: {exc}"))
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(f"console: {m.text}"))
    yield page
    context.close()


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def screenshot(page, name: str) -> None:
    try:
        page.screenshot(path=str(artifacts_dir() / name), full_page=True, timeout=30_000)
    except Exception as exc:  # a failing screenshot must not hide the test's own failure
        print(f"screenshot {name} failed: {exc}")


def wait_for(page, what: str, probe, timeout_s: float = RESULT_TIMEOUT_S):
    """Poll ``probe()`` until it returns something truthy; fail at once on an error toast."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value:
            return value
        # the demo reports a failed request in a warning toast; gradio's own failures are errors
        toasts = page.locator(".toast-body.error, .toast-body.warning")
        if toasts.count():
            pytest.fail(f"waiting for {what}: the page says {toasts.first.inner_text()!r}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} after {timeout_s} s; browser errors: {page.console_errors[-10:]}")
        page.wait_for_timeout(500)


def open_demo(page, url: str) -> None:
    # not "load"/"networkidle": the page keeps connections open, and a theme may ask for web fonts
    page.goto(url + "/", wait_until="domcontentloaded")
    for label in ("Transcribe", "Synthesize", "Round trip", "Models"):
        page.get_by_role("tab", name=label).wait_for(state="visible")


def test_transcribe_tab_shows_the_spoken_digit(page, demo_server):  # no server start without a browser
    digit, speaker, take = CLIP
    clip = shared_data("fsdd") / "recordings" / f"{digit}_{speaker}_{take}.wav"
    assert clip.is_file(), clip
    try:
        open_demo(page, demo_server.url)
        page.get_by_role("tab", name="Transcribe").click()
        upload = page.locator("#asr-audio input[type=file]")
        if not upload.count():  # the widget opened on another source (the microphone)
            page.locator("#asr-audio button[aria-label='Upload file']").click()
        upload.set_input_files(str(clip))
        # the clip is uploaded once the widget links to the server's copy of it
        wait_for(page, "uploaded clip", lambda: page.locator(
            "#asr-audio a[href*='gradio_api/file='], #asr-audio audio[src]").count(), PAGE_TIMEOUT_S)
        box = page.locator("#asr-text textarea")
        assert box.input_value() == ""
        page.locator("#asr-button").click()
        transcript = wait_for(page, "transcript", lambda: box.input_value().strip())
        found = words(transcript)
        assert DIGITS[digit] in found, f"{clip.name}: transcript {transcript!r}"
        others = [w for w in found if w in DIGITS and w != DIGITS[digit]]
        assert not others, f"{clip.name}: transcript {transcript!r} names other digits too"
    finally:
        screenshot(page, "demo-transcribe.png")


def test_synthesize_tab_plays_audio(page, demo_server):
    try:
        open_demo(page, demo_server.url)
        page.get_by_role("tab", name="Synthesize").click()
        page.locator("#tts-text textarea").fill(SENTENCE)
        player = page.locator("#tts-audio audio")
        sources = "els => els.map(e => e.currentSrc || e.src)"
        assert not [s for s in player.evaluate_all(sources) if s], "audio before synthesis"
        page.locator("#tts-button").click()
        src = wait_for(page, "audio element with a source", lambda: next(
            (s for s in player.evaluate_all(sources) if s), None))
        # the source is real audio, in the browser's own hands (blob: or http: alike)
        size = page.evaluate("src => fetch(src).then(r => r.ok ? r.arrayBuffer() : null)"
                             ".then(b => b ? b.byteLength : -1)", src)
        assert size > 44, f"audio source {src} gives {size} bytes"  # more than a WAV header
        duration = page.evaluate(
            """src => new Promise((resolve) => {
                const a = new Audio();
                a.preload = "metadata";
                a.onloadedmetadata = () => resolve(a.duration);
                a.onerror = () => resolve(-1);
                setTimeout(() => resolve(-2), 30000);
                a.src = src;
            })""", src)
        assert duration >= MIN_SPEECH_S, f"{SENTENCE!r}: {duration} s of audio"
    finally:
        screenshot(page, "demo-synthesize.png")
