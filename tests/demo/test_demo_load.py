"""Load test of the running web demo: 20 concurrent API requests (10 ASR + 10 TTS) on loopback.

Every request is answered with a sensible result and no error; the only refusal allowed is the
demo's bounded queue saying it is full (HTTP 503), which a client meets by trying again, and the
queue must take at least its documented size at once. All in bounded time; the server is still
healthy afterwards. A latency summary is printed and saved as ``demo-load.txt`` in the artefacts.
"""

from __future__ import annotations

import re
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import pytest
import soundfile as sf
from _demo_server import QUEUE_SIZE, artifacts_dir, gradio_client, shared_demo_server
from _helpers import shared_data

pytestmark = pytest.mark.slow

N_ASR = 10
SENTENCES = (
    "Hello world.",
    "Good morning to you.",
    "The sun is shining.",
    "Please call me later.",
    "It is a nice day.",
    "Where are my keys?",
    "We will meet at noon.",
    "Thank you very much.",
    "The train is late again.",
    "Open the door, please.",
)
N_REQUESTS = N_ASR + len(SENTENCES)
TOTAL_LIMIT_S = 300  # all 20, from the moment they are sent
MIN_SPEECH_S = 0.2  # far below any real reading of the sentences, far above a degenerate model
MAX_SPEECH_S = 30.0
DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
MIN_DIGIT_ACCURACY = 0.8  # the shipped ASR's FSDD WER is <= 3 %; swapped or garbled answers fall far below


@pytest.fixture(scope="module")
def demo_server(request, tmp_path_factory):
    return shared_demo_server(request, tmp_path_factory)


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def fsdd_test_clips(n: int) -> list[tuple[int, Path]]:
    """``n`` FSDD test-split clips (takes 0-4): every digit, speakers and takes in turn."""
    recordings = shared_data("fsdd") / "recordings"
    speakers = sorted({p.stem.split("_")[1] for p in recordings.glob("*_*_*.wav")})
    assert speakers, f"no FSDD recordings in {recordings}"
    clips = []
    for i in range(n):
        digit, speaker, take = i % 10, speakers[i % len(speakers)], (i // len(speakers)) % 5
        clip = recordings / f"{digit}_{speaker}_{take}.wav"
        assert clip.is_file(), clip
        clips.append((digit, clip))
    return clips


@dataclass
class Outcome:
    kind: str  # "asr" or "tts"
    label: str
    latency_s: float | None = None  # from the common start to the answer, retries included
    rejections: int = 0  # "queue full" refusals before it was queued
    first_rejected: bool = False
    outputs: object = None  # the endpoint's outputs
    error: str | None = None

    @property
    def result(self):
        """The first output (transcript or audio file); the others are info, plots."""
        return first(self.outputs)

    def shown(self) -> str:
        if self.error:
            return self.error
        if self.result:
            return repr(self.result)
        return f"{self.result!r}, with {texts(self.outputs)}"  # an app-level error: its message is here


def first(outputs):
    return outputs[0] if isinstance(outputs, (tuple, list)) else outputs


def texts(outputs) -> list[str]:
    """The text outputs (transcript, info with any error message); not the plots."""
    outputs = outputs if isinstance(outputs, (tuple, list)) else [outputs]
    return [o[:300] for o in outputs if isinstance(o, str)]


def send(url: str, outcome: Outcome, args: tuple, api_name: str, download_dir: Path,
         start_line: threading.Barrier, t0: list[float], deadline_s: float) -> Outcome:
    from gradio_client.utils import QueueError

    try:
        client = gradio_client(url, download_dir)  # a user with the page open ...
    except Exception as exc:
        outcome.error = f"client: {type(exc).__name__}: {exc}"
        start_line.abort()
        return outcome
    try:
        start_line.wait()  # ... and all of them press the button at once
        while True:
            remaining = deadline_s - (time.monotonic() - t0[0])
            try:
                job = client.submit(*args, api_name=api_name)
                outcome.outputs = job.result(timeout=max(remaining, 1.0))
                break
            except QueueError:  # the bounded queue refused it cleanly: try again a little later
                outcome.first_rejected |= outcome.rejections == 0
                outcome.rejections += 1
                if remaining < 5:
                    raise
                time.sleep(min(1.0 + outcome.rejections, 5.0))
        outcome.latency_s = time.monotonic() - t0[0]
    except Exception as exc:
        outcome.error = f"{type(exc).__name__}: {exc}"
    finally:
        client.close()
    return outcome


def summary(outcomes: list[Outcome], wall_s: float) -> str:
    lines = [f"{N_REQUESTS} concurrent requests, all done in {wall_s:.1f} s"]
    for kind in ("asr", "tts"):
        lat = sorted(o.latency_s for o in outcomes if o.kind == kind and o.latency_s is not None)
        if lat:
            lines.append(f"{kind}: n={len(lat)} min={lat[0]:.2f} s median={statistics.median(lat):.2f} s "
                         f"max={lat[-1]:.2f} s")
    lines.append(f"queue-full refusals: {sum(o.rejections for o in outcomes)} "
                 f"({sum(o.first_rejected for o in outcomes)} requests refused on first try)")
    for o in sorted(outcomes, key=lambda o: (o.latency_s is None, o.latency_s or 0)):
        lat = "   -   " if o.latency_s is None else f"{o.latency_s:7.2f}"
        lines.append(f"  {lat} s  {o.kind}  {o.label:<28} refused {o.rejections}x  {o.shown()[:300]}")
    return "\n".join(lines)


def test_20_concurrent_mixed_requests(demo_server, tmp_path):
    jobs = []  # (outcome, args, api_name)
    clips = fsdd_test_clips(N_ASR)
    from gradio_client import handle_file

    for digit, clip in clips:
        jobs.append((Outcome("asr", clip.name), (handle_file(str(clip)),), "/transcribe", digit))
    for sentence in SENTENCES:
        jobs.append((Outcome("tts", sentence), (sentence, 1.0, None), "/synthesize", None))
    assert len(jobs) == N_REQUESTS == 20

    t0 = [0.0]  # set as the start line opens, before any request goes
    start_line = threading.Barrier(N_REQUESTS + 1, action=lambda: t0.__setitem__(0, time.monotonic()))
    with ThreadPoolExecutor(max_workers=N_REQUESTS) as pool:
        futures = [pool.submit(send, demo_server.url, outcome, args, api, tmp_path / f"dl{i}", start_line, t0,
                               TOTAL_LIMIT_S)
                   for i, (outcome, args, api, _) in enumerate(jobs)]
        try:
            start_line.wait(timeout=120)  # every client connected
        except threading.BrokenBarrierError:
            pass
        done, not_done = wait(futures, timeout=TOTAL_LIMIT_S + 30)
        wall_s = time.monotonic() - t0[0]
    outcomes = [job[0] for job in jobs]
    report = summary(outcomes, wall_s)
    print(report)
    (artifacts_dir() / "demo-load.txt").write_text(report + "\n", encoding="utf-8")

    assert not not_done, f"{len(not_done)} requests still running after {TOTAL_LIMIT_S + 30} s\n{report}"
    errors = [f"{o.label}: {o.error}" for o in outcomes if o.error is not None]
    assert not errors, "error responses:\n" + "\n".join(errors) + "\n" + report
    assert wall_s < TOTAL_LIMIT_S, report
    # the queue takes at least its size at once: only the requests beyond it may be refused first
    refused_first = sum(o.first_rejected for o in outcomes)
    assert refused_first <= N_REQUESTS - QUEUE_SIZE, report

    correct = 0
    for outcome, _, _, digit in jobs:
        if outcome.kind != "asr":
            continue
        text = outcome.result
        assert isinstance(text, str) and text.strip(), f"{outcome.label}: {outcome.shown()}"
        correct += DIGITS[digit] in words(text)
    assert correct >= MIN_DIGIT_ACCURACY * N_ASR, f"{correct}/{N_ASR} digits right\n{report}"

    for outcome in outcomes:
        if outcome.kind != "tts":
            continue
        path = Path(str(outcome.result))
        assert outcome.result and path.is_file() and path.stat().st_size > 44, (
            f"{outcome.label}: {outcome.shown()}")
        audio, rate = sf.read(path, dtype="float32")
        seconds = len(audio) / rate
        assert MIN_SPEECH_S <= seconds <= MAX_SPEECH_S, f"{outcome.label}: {seconds:.3f} s of audio"
        assert abs(audio).max() > 1e-3, f"{outcome.label}: silence"


def test_server_healthy_after_load(demo_server, tmp_path):
    ok, why = demo_server.healthy()
    assert ok, why
    digit, clip = fsdd_test_clips(1)[0]
    from gradio_client import handle_file

    client = gradio_client(demo_server.url, tmp_path)
    try:
        start = time.monotonic()
        outputs = client.predict(handle_file(str(clip)), api_name="/transcribe")
        print(f"one more request after the load: {time.monotonic() - start:.2f} s -> {texts(outputs)}")
    finally:
        client.close()
    transcript = first(outputs)
    assert isinstance(transcript, str) and DIGITS[digit] in words(transcript), (
        f"{clip.name}: {texts(outputs)}")
    ok, why = demo_server.healthy()
    assert ok, why
    log = demo_server.log()
    assert demo_server.url in log, "the demo did not print its local URL"
    assert "Traceback" not in log, "the server logged an exception"
