"""Throughput measurements behind ``harmony speed ...`` (figures are printed, never asserted in tests)."""

from __future__ import annotations
