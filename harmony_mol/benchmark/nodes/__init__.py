"""Node-level (transductive) mode: the paper's node-classification reproduction (loaders, SSL loop, probe, report)."""

from __future__ import annotations
