"""Prefect flows: thin adapters over harmony_mol / featurizers library calls.

Importing this package sets *defaults* (never overriding the user's) that keep Prefect offline, out of
``~/.prefect`` and patient on slow machines, and forward the library loggers to Prefect. It must run before
``import prefect``, hence here. Set ``PREFECT_API_URL`` to run the same flows against a server.
"""

from __future__ import annotations

import os
from pathlib import Path

_DEFAULTS = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_HOME": str(Path.home() / ".cache" / "harmony-mol" / "prefect"),
    "PREFECT_LOGGING_EXTRA_LOGGERS": "harmony_mol,featurizers,flows",
}
for _k, _v in _DEFAULTS.items():
    os.environ.setdefault(_k, _v)
