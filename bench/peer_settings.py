"""Settings for the peer benchmark's Studio processes: the API benchmark's, plus the `peer` engine.

Bench-only. Everything of `bench/api_settings.py` (its URLconf raises the enterprise tier's
limits, see `bench/api_urls.py`), and the model catalog points the document's model id at
`bench.peer_engine.PeerEngine`, which renders with the cog peer's `predict.py` named in
`STUDIO_PEER_PREDICT_PY` (set by `bench/peer.py`).
"""

from bench.api_settings import *  # noqa: F403
from studio.env import env_str

STUDIO_ENGINES = {**STUDIO_ENGINES, "peer": "bench.peer_engine.PeerEngine"}  # noqa: F405
STUDIO_MODELS = {
    "seedream-5.0-lite": {"engine": "peer", "options": {"predict_py": env_str("STUDIO_PEER_PREDICT_PY")}},
}
