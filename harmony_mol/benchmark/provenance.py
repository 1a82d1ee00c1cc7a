"""The provenance section of a benchmark report.

Command, commit, hardware, versions, data and checkpoint hashes, model sizes, the full config.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harmony_mol.benchmark.config import BenchmarkConfig
from harmony_mol.config import config_to_dict
from harmony_mol.utils.provenance import git_commit, hardware, versions


def _data_hashes(cfg: BenchmarkConfig) -> list[str]:
    out = []
    for man in sorted((cfg.scratch_dir / "datasets").glob("*/manifest.json")):
        m = json.loads(man.read_text())
        c = m.get("counts", {})
        files = ", ".join(f"`{Path(r['path']).name}` sha256 {str(r.get('sha256', ''))[:16]}"
                          for r in m.get("inputs", []))
        out.append(f"- `{man.parent.name}`: {c.get('graphs')} graphs from {c.get('rows')} rows "
                   f"({c.get('rejected')} rejected, {c.get('duplicates', 0)} duplicates); {files}")
    return out


def _sizes(cfg: BenchmarkConfig, checkpoints: dict[str, str]) -> list[str]:
    """Encoder parameter counts (molecule ``harmony`` preset dims) so "same size" can be checked."""
    from harmony_mol.models.io import load_checkpoint
    from harmony_mol.models.registry import build_encoder

    lines = []
    for preset, path in checkpoints.items():
        try:
            ck = load_checkpoint(path)
            enc = build_encoder(ck["encoder_config"], ck["input_dims"])
            lines.append(f"- pretrained encoder [{preset}]: {sum(p.numel() for p in enc.parameters()):,} parameters, "
                         f"`{path}` (step {ck.get('step')}, epoch {ck.get('epoch')}); pretraining config: "
                         f"`{json.dumps(ck.get('pretrain_config', {}).get('encoder', {}), sort_keys=True)}`")
            crystal = [("CGCNN", {"arch": "cgcnn", **cfg.cgcnn})] if cfg.suite == "crystals" else []
            for name, full in (("from-scratch HarmonyGNN", {**ck["encoder_config"], **cfg.encoder}),
                               ("GIN", {"arch": "gin", **cfg.gin}), *crystal):
                try:
                    n = sum(p.numel() for p in build_encoder(full, ck["input_dims"]).parameters())
                    lines.append(f"- {name} [{preset} inputs]: {n:,} parameters")
                except Exception as exc:  # noqa: BLE001 - sizes are informative only
                    lines.append(f"- {name} [{preset}]: size not computed ({exc})")
        except Exception as exc:  # noqa: BLE001
            lines.append(f"- checkpoint {path}: not readable ({exc})")
    return lines


def _call_lines(calls: list[dict[str, Any]]) -> list[str]:
    """One line per logged ``run_benchmark`` call (``calls.jsonl``), oldest first."""
    out = []
    for c in sorted(calls, key=lambda c: str(c.get("call"))):
        end = (f"ended {c['ended']}, {c.get('cells_run')} cells run, {c.get('cells_skipped')} skipped, "
               f"{float(c.get('wall_s') or 0) / 60:.1f} min" if "ended" in c else "no end logged (running, or stopped)")
        out.append(f"  - {c.get('call')} pid {c.get('pid')} on {c.get('host')}, commit {c.get('commit')}: "
                   f"`{c.get('command')}`; {end}")
    return out


def provenance_lines(cfg: BenchmarkConfig, rows: list[dict[str, Any]], command: str,
                     extra: dict[str, Any], calls: list[dict[str, Any]] | None = None) -> list[str]:
    """Markdown bullet lines (``calls``: the logged calls that wrote rows, see ``ResultStore.calls``)."""
    walls = sum(float(r.get("wall_s") or 0) for r in rows)
    return [f"- Command: `{command or 'run_benchmark(cfg)'}`",
            f"- Git commit: {git_commit()}",
            f"- Mode: **{cfg.mode}**; hardware: {json.dumps(hardware(), sort_keys=True)}",
            f"- Versions: {json.dumps(versions(), sort_keys=True)}",
            f"- Cells in results.csv: {len(rows)}; summed cell wall time {walls / 60:.1f} min; "
            f"this call: {json.dumps(extra, sort_keys=True)}",
            "- Calls logged in `calls.jsonl` (several may run at once and share the cells; calls made before "
            "the log existed are not listed):", *(_call_lines(calls or []) or ["  - none"]),
            "- Datasets (featurized copies; sha256 of the shared input files):", *_data_hashes(cfg),
            "- Model sizes:", *_sizes(cfg, extra.get("checkpoints", {})),
            "", "Config:", "", "```json", json.dumps(config_to_dict(cfg), indent=1, sort_keys=True, default=str), "```"]
