"""The running web demo against what any HTTP client can send (issue 14): raw requests on loopback.

* Without ``--allow-model-loading`` (the default) no event of the served page loads a server path:
  every event that is not one of the three documented endpoints is called through gradio's queue
  API with a path, as a client that read the page's config would, and none loads anything.
* The Transcribe tab says what the served ASR model is for (its card's intended use).
* Memory plateaus under load: rounds of 20 concurrent requests on a fresh server, its RSS sampled
  after each round; the last rounds may not keep growing (about 3-6 minutes on 2 CPU cores).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from _demo_server import REPO, gradio_client, http_get, shared_demo_server, start_demo_server
from test_demo_load import SENTENCES, fsdd_test_clips

pytestmark = pytest.mark.slow

API_ENDPOINTS = {"transcribe", "synthesize", "roundtrip"}  # documented, with their own tests
LOADER_IDS = {"models-path", "models-load-asr", "models-load-tts", "models-status"}
# what a loader's answer says, on success or failure, before and after issue 14
LOADER_WORDS = ("Loaded", "model not found", "stays loaded", "no loadable", "not a packed model")
ROUNDS, WARMUP_ROUNDS = 8, 4  # the warm-up fills gradio's session cache and the malloc arenas
MAX_LATE_GROWTH_MB = 40.0  # over the last 4 rounds; before the fix: 1.07 -> 1.98 GB in 6 rounds
ROUND_TIMEOUT_S = 300


@pytest.fixture(scope="module")
def demo_server(request, tmp_path_factory):
    return shared_demo_server(request, tmp_path_factory)


def page_config(url: str) -> dict:
    status, body = http_get(url + "/config")
    assert status == 200, f"GET /config: status {status}"
    return json.loads(body)


def call_event(url: str, fn_index: int, data: list, timeout_s: float = 120) -> list[dict]:
    """Join gradio's queue for event ``fn_index`` as a raw HTTP client; its server-sent messages."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    session = uuid.uuid4().hex
    body = json.dumps({"data": data, "fn_index": fn_index, "session_hash": session,
                       "event_data": None, "trigger_id": None}).encode()
    join = urllib.request.Request(url + "/gradio_api/queue/join", data=body,
                                  headers={"Content-Type": "application/json"})
    try:
        with opener.open(join, timeout=timeout_s) as response:
            joined = json.loads(response.read())
    except urllib.error.HTTPError as exc:  # refused outright: nothing ran
        return [{"msg": "refused", "status": exc.code, "detail": exc.read().decode(errors="replace")}]
    messages = [{"msg": "joined", **joined}]
    with opener.open(f"{url}/gradio_api/queue/data?session_hash={session}", timeout=timeout_s) as stream:
        for line in stream:
            if line.startswith(b"data:"):
                message = json.loads(line[5:])
                messages.append(message)
                if message.get("msg") in ("process_completed", "close_stream", "unexpected_error"):
                    break
    return messages


def test_no_event_loads_a_server_path(demo_server):
    config = page_config(demo_server.url)
    ids = {c.get("props", {}).get("elem_id") for c in config["components"]}
    assert not LOADER_IDS & ids, f"the page has the model loader: {sorted(LOADER_IDS & ids)}"
    assert "asr-audio" in ids  # the config is the page's
    probe = str(REPO / "spikespeech" / "models" / "kathleen_fsdd_asr.zip")  # a real, loadable pack
    called = 0
    for dependency in config["dependencies"]:
        if dependency.get("api_name") in API_ENDPOINTS:
            continue
        # every other event, given the path in each of its inputs, as a hand-made client would
        messages = call_event(demo_server.url, dependency["id"], [probe] * len(dependency["inputs"]))
        called += 1
        said = json.dumps(messages)
        assert not any(word in said for word in LOADER_WORDS), (
            f"event {dependency['id']} ({dependency.get('api_name')}) acts on a path: {said[:1000]}")
    assert called >= 1  # the page-load event at least
    assert "Loaded" not in demo_server.log() and "loading asr model" not in demo_server.log()


def test_transcribe_tab_says_what_the_model_is_for(demo_server):
    config = page_config(demo_server.url)
    scope = next(c["props"]["value"] for c in config["components"]
                 if c.get("props", {}).get("elem_id") == "asr-scope")
    if demo_server.models["asr"] is None:  # the shipped default: its card's intended use
        assert "Spoken English digits" in scope and "Read English sentences" in scope
    assert "What the model" in scope


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for process {pid}")


def one_round(url: str, download_dir: Path) -> list[str]:
    """10 FSDD clips to /transcribe and 10 sentences to /synthesize at once; their errors."""
    from gradio_client import handle_file
    from gradio_client.utils import QueueError

    jobs = [((handle_file(str(clip)),), "/transcribe") for _, clip in fsdd_test_clips(10)]
    jobs += [((sentence, 1.0, None), "/synthesize") for sentence in SENTENCES]

    def send(job) -> str | None:
        args, api_name = job
        client = gradio_client(url, download_dir)
        try:
            deadline = time.monotonic() + ROUND_TIMEOUT_S
            while True:
                try:
                    client.submit(*args, api_name=api_name).result(timeout=ROUND_TIMEOUT_S)
                    return None
                except QueueError:  # the bounded queue is full: as a user would, try again
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(2)
        except Exception as exc:
            return f"{api_name}: {type(exc).__name__}: {exc}"
        finally:
            client.close()

    with ThreadPoolExecutor(len(jobs)) as pool:
        return [error for error in pool.map(send, jobs) if error]


def test_memory_plateaus_under_load(tmp_path):
    if not Path("/proc/self/status").is_file():
        pytest.skip("RSS is read from /proc (Linux)")
    server = start_demo_server(tmp_path / "server")  # fresh: nothing before it counts
    try:
        samples = [rss_mb(server.process.pid)]
        for round_ in range(ROUNDS):
            errors = one_round(server.url, tmp_path / "downloads")
            assert not errors, f"round {round_}: {errors[:3]}"
            time.sleep(2)  # the last answers' clean-up
            samples.append(rss_mb(server.process.pid))
        report = "RSS per round (MB): " + " ".join(f"{mb:.0f}" for mb in samples)
        print(report)
        late_growth = samples[-1] - samples[WARMUP_ROUNDS]
        assert late_growth < MAX_LATE_GROWTH_MB, f"{report}: +{late_growth:.0f} MB in the last rounds"
        assert server.healthy()[0] and "Traceback" not in server.log()
    finally:
        server.stop()
