# Sourced by scripts/main.sh and scripts/test.sh: sets UV to a working uv command,
# installing uv from PyPI with pip if this machine has none. Needs only Python >= 3.10 + pip.
if command -v uv >/dev/null 2>&1; then
  UV="uv"
elif python3 -m uv --version >/dev/null 2>&1; then
  UV="python3 -m uv"
else
  echo "uv not found: installing it with pip" >&2
  # plain install works in a virtualenv or as root; --user where the site dir is read-only;
  # --break-system-packages where the system Python is marked externally managed (PEP 668)
  python3 -m pip install --quiet uv 2>/dev/null \
    || python3 -m pip install --quiet --user uv 2>/dev/null \
    || python3 -m pip install --quiet --user --break-system-packages uv \
    || { echo "error: could not install uv with pip" >&2; exit 1; }
  UV="python3 -m uv"
fi
export UV_PYTHON_DOWNLOADS="${UV_PYTHON_DOWNLOADS:-never}"  # use this machine's Python
# Install packages with their bytecode compiled (uv's default is not to): a machine where Python
# cannot cache it (PYTHONDONTWRITEBYTECODE, read-only site-packages) otherwise recompiles torch,
# scipy and ESPnet on every start: 'spikespeech transcribe one.wav' took 11.6 s instead of 3.4 s.
export UV_COMPILE_BYTECODE="${UV_COMPILE_BYTECODE:-1}"
