"""Launch the spikespeech web demo from a checkout (or an installation).

    python demo/app.py [--host 127.0.0.1] [--port 7860] [--asr-model PATH] [--tts-model PATH] ...

Takes exactly the options of ``spikespeech demo`` (see ``python demo/app.py --help``) and
runs the same code (:func:`spikespeech.demo.app.main` does the same from Python; the demo
itself is ``spikespeech.demo``). The command line is parsed before gradio, torch and ESPnet
are imported, so ``--help`` and option errors answer at once.
"""

import sys
from pathlib import Path

# run from a checkout: import this checkout's package, installed or not
ROOT = Path(__file__).resolve().parents[1]
if (ROOT / "spikespeech" / "__init__.py").is_file() and str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from spikespeech.cli.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["demo", *sys.argv[1:]]))
