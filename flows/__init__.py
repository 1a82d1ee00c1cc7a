"""Prefect flows: thin adapters over harmony_mol / featurizers library calls.

Importing this package sets *defaults* (``os.environ.setdefault``, never overriding the user) that
keep Prefect offline and out of ``~/.prefect``: no telemetry (``DO_NOT_TRACK``,
``PREFECT_SERVER_ANALYTICS_ENABLED=false``), a 120 s ephemeral-server start-up timeout for slow
2-core machines, ``PREFECT_HOME=~/.cache/harmony-mol/prefect`` and the library loggers forwarded to
Prefect. It must run before ``import prefect``, which is why it lives here and not in a function the
flow modules would call too late. Set ``PREFECT_API_URL`` to run the same flows against a server.
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
