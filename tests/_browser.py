"""Headless Chromium for the browser tests (``from _browser import ...``).

Playwright's own browser download cannot work offline, so Playwright for Python drives Debian's
``chromium`` package, installed here with apt-get when it is missing (we run as root in CI).
``SPIKESPEECH_CHROMIUM`` names another Chromium executable.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from _demo_server import skip_or_fail

CHROMIUM = Path(os.environ.get("SPIKESPEECH_CHROMIUM", "/usr/bin/chromium"))
INSTALL_TIMEOUT_S = 900
# without the background-networking flags Chromium floods a closed network with requests
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _run(cmd: list[str]) -> tuple[bool, str]:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        done = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=INSTALL_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    return done.returncode == 0, (done.stdout + done.stderr)[-3000:]


def ensure_chromium() -> Path:
    """The Chromium executable; installs Debian's ``chromium`` when missing.

    Skips when that is impossible (not root, no apt-get, no package), fails instead under CI.
    """
    if _works(CHROMIUM):
        return CHROMIUM
    if "SPIKESPEECH_CHROMIUM" in os.environ:
        skip_or_fail(f"SPIKESPEECH_CHROMIUM={CHROMIUM}: not a working Chromium executable")
    apt = shutil.which("apt-get")
    if apt is None:
        skip_or_fail(f"{CHROMIUM} is missing and there is no apt-get to install Debian's chromium")
    if os.geteuid() != 0:
        skip_or_fail(f"{CHROMIUM} is missing; installing it needs root (apt-get install -y chromium)")
    ok, log = _run([apt, "install", "-y", "chromium"])
    if not ok:  # an image without package lists: fetch them, then try again
        updated, update_log = _run([apt, "update"])
        ok, log = _run([apt, "install", "-y", "chromium"]) if updated else (
            False, update_log)
    if not ok or not _works(CHROMIUM):
        skip_or_fail(f"could not install Debian's chromium with apt-get:\n{log}")
    return CHROMIUM


def _works(path: Path) -> bool:
    if not (path.is_file() and os.access(path, os.X_OK)):
        return False
    try:
        done = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and "chrom" in done.stdout.lower()
