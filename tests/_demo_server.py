"""The running web demo for the browser and load tests (``from _demo_server import ...``).

One ``spikespeech demo`` server per pytest process, started on first use as a subprocess on a
free loopback port and shared by every test module that asks for it (:func:`shared_demo_server`);
it is stopped, with any children, when pytest finishes. Its output goes to a log file that is
appended to the report of every failing test that used it, and copied to the test artefacts.

The models come from one place, :func:`demo_models`: the shipped defaults (the server is started
without ``--asr-model``/``--tts-model``, exactly as the README's command starts it), unless
``SPIKESPEECH_DEMO_ASR_MODEL`` / ``SPIKESPEECH_DEMO_TTS_MODEL`` name other packs (development).
``SPIKESPEECH_DEMO_COMMAND`` replaces ``python -m spikespeech.cli.main demo`` (development only).
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ENV_MODELS = {"asr": "SPIKESPEECH_DEMO_ASR_MODEL", "tts": "SPIKESPEECH_DEMO_TTS_MODEL"}
ENV_COMMAND = "SPIKESPEECH_DEMO_COMMAND"
ENV_ARTIFACTS = "SPIKESPEECH_TEST_ARTIFACTS"
# model loading on a busy CI runner is slow; overridable for slower machines
STARTUP_TIMEOUT_S = float(os.environ.get("SPIKESPEECH_DEMO_STARTUP_TIMEOUT", 300))
QUEUE_SIZE = 16  # the demo's default --queue-size (its contract)
FIXTURE = "demo_server"  # the name of the test modules' fixture (its failures get the server log)


def skip_or_fail(message: str) -> None:
    """Skip locally, but fail under CI (env ``CI`` set), where everything must be there."""
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def artifacts_dir() -> Path:
    """Where tests leave files for people to look at (screenshots, the server log)."""
    path = Path(os.environ.get(ENV_ARTIFACTS) or REPO / "test-artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


def demo_models() -> dict[str, Path | None]:
    """``{"asr": ..., "tts": ...}``: the pack the server is told to use, or None for the default.

    Skips (fails under CI) when the shipped default is missing and no override is given.
    """
    models: dict[str, Path | None] = {}
    for task, env in ENV_MODELS.items():
        value = os.environ.get(env)
        if value:
            path = Path(value).expanduser()
            if not path.exists():
                pytest.fail(f"{env}={value}: no such model", pytrace=False)
            models[task] = path.resolve()
            continue
        from spikespeech.models import MissingDefaultModel, default_model

        try:
            default_model(task)
        except MissingDefaultModel as exc:
            skip_or_fail(f"{exc} (or set {env} to a packed model)")
        models[task] = None
    return models


def demo_command(port: int, models: dict[str, Path | None], extra: list[str]) -> list[str]:
    prefix = os.environ.get(ENV_COMMAND)
    cmd = shlex.split(prefix) if prefix else [sys.executable, "-m", "spikespeech.cli.main", "demo"]
    cmd += ["--host", "127.0.0.1", "--port", str(port)]
    for task, path in models.items():
        if path is not None:
            cmd += [f"--{task}-model", str(path)]
    return cmd + extra


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url: str, timeout: float = 10.0) -> tuple[int, bytes]:
    """``(status, body)``; status 0 when nothing answers. Never goes through a proxy."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (OSError, urllib.error.URLError):
        return 0, b""


@dataclass
class DemoServer:
    url: str  # http://127.0.0.1:PORT (no trailing slash)
    process: subprocess.Popen
    log_path: Path
    command: list[str]
    models: dict[str, Path | None]
    started_s: float = 0.0  # seconds from launch until it answered
    _log_file: object = field(default=None, repr=False)

    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def log_tail(self, chars: int = 20000) -> str:
        text = self.log()
        return text if len(text) <= chars else "[...]\n" + text[-chars:]

    def healthy(self) -> tuple[bool, str]:
        """The process runs and serves its page and its API description."""
        if not self.alive():
            return False, f"server exited with code {self.process.returncode}"
        for path in ("/", "/gradio_api/info"):
            status, body = http_get(self.url + path)
            if status != 200 or not body:
                return False, f"GET {path}: status {status}"
        return True, "ok"

    def stop(self) -> None:
        """Terminate the server and its children (its own process group); copy its log."""
        if self.alive():
            for sig, wait_s in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
                try:
                    os.killpg(self.process.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.process.wait(wait_s)
                    break
                except subprocess.TimeoutExpired:
                    continue
        else:  # the leader is gone; children it left in its group still go
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self._log_file is not None:
            self._log_file.close()
        try:
            shutil.copyfile(self.log_path, artifacts_dir() / "demo-server.log")
        except OSError:
            pass


def start_demo_server(workdir: Path, extra_args: list[str] | None = None,
                      timeout_s: float = STARTUP_TIMEOUT_S) -> DemoServer:
    """Start the demo on a free loopback port; return once it serves its page and API."""
    models = demo_models()
    workdir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    env.update(
        PYTHONUNBUFFERED="1",  # a live log
        GRADIO_ANALYTICS_ENABLED="False",  # no calls home from a closed network
        HF_HUB_OFFLINE="1",
        MPLBACKEND="Agg",
        GRADIO_TEMP_DIR=str(workdir / "gradio-tmp"),  # what it creates stays in the test's dir
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    last = ""
    for attempt in range(3):  # another process may take the free port before the server binds it
        port = free_port()
        cmd = demo_command(port, models, list(extra_args or []))
        log_path = workdir / f"demo-server-{attempt}.log"
        log_file = open(log_path, "w", encoding="utf-8")  # closed by stop()
        log_file.write(f"$ {shlex.join(cmd)}\n")
        log_file.flush()
        start = time.monotonic()
        process = subprocess.Popen(cmd, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=log_file,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        server = DemoServer(f"http://127.0.0.1:{port}", process, log_path, cmd, models, _log_file=log_file)
        while time.monotonic() - start < timeout_s:
            if not server.alive():
                break
            if server.healthy()[0]:
                server.started_s = time.monotonic() - start
                return server
            time.sleep(1.0)
        timed_out = server.alive()
        server.stop()
        last = server.log_tail()
        if timed_out:
            pytest.fail(f"demo server did not answer on {server.url} within {timeout_s:.0f} s; "
                        f"its log:\n{last}", pytrace=False)
        if "address already in use" not in last.lower() and "empty port" not in last.lower():
            break
    pytest.fail(f"demo server exited during start-up (code {process.returncode}); its log:\n{last}",
                pytrace=False)


class _FailureLog:
    """pytest plugin: the server log goes into the report of each failing test that used it."""

    def __init__(self, server: DemoServer):
        self.server = server

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item, call):
        if call.excinfo is not None and FIXTURE in getattr(item, "fixturenames", ()):
            if not call.excinfo.errisinstance(pytest.skip.Exception):
                state = "running" if self.server.alive() else f"exited ({self.server.process.returncode})"
                item.add_report_section(call.when, f"demo server log, {state}", self.server.log_tail())


_shared: DemoServer | None = None
_shared_error: str | None = None


def shared_demo_server(request: pytest.FixtureRequest,
                       tmp_path_factory: pytest.TempPathFactory) -> DemoServer:
    """The one demo server of this pytest process (started on first call, stopped at exit)."""
    global _shared, _shared_error
    if _shared_error is not None:  # do not wait for a second failing start-up
        pytest.fail(_shared_error, pytrace=False)
    if _shared is None:
        workdir = tmp_path_factory.mktemp("demo-server")
        try:
            server = start_demo_server(workdir)
        except pytest.fail.Exception as exc:
            _shared_error = f"(cached from the first start-up) {exc}"
            raise
        _shared = server
        request.config.add_cleanup(_stop_shared)
        request.config.pluginmanager.register(_FailureLog(server), "spikespeech-demo-server-log")
    if not _shared.alive():
        pytest.fail(f"the demo server has died (code {_shared.process.returncode}); its log:\n"
                    f"{_shared.log_tail()}", pytrace=False)
    return _shared


def _stop_shared() -> None:
    global _shared
    if _shared is not None:
        _shared.stop()
        _shared = None


def gradio_client(url: str, download_dir: Path):
    """A ``gradio_client.Client`` for the demo (quiet; no telemetry from a closed network)."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # read by the client at construction
    from gradio_client import Client

    return Client(url + "/", verbose=False, download_files=str(download_dir))
