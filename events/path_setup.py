"""Put the repository root on sys.path, so `shared` imports when events/ is the working folder."""

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parent.parent)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
