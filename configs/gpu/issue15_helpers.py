"""Small steps of ``configs/gpu/issue15_h200.sh`` (issue 15 item 4), one subcommand each.

- ``overrides CONFIG HIDDEN``: the speed bench's ``--set`` items, one a line;
- ``steps SPEED_JSON BATCH TRAIN_S SAFETY``: ``max_steps`` that fit a time budget;
- ``export RUN_DIR DST``: the run's slim encoder to ``DST``;
- ``summary OUT FEATURIZE_JSON BATCH TOTAL_S``: one line, and ``OUT/summary.json``.
"""

from __future__ import annotations

import csv
import json
import statistics
import sys
from pathlib import Path
from typing import Any

GOAL = 40_000  # graphs/s of the full teacher-student step (issue 15)


def overrides(config: str, hidden: int) -> list[str]:
    """The config's encoder / masking / objective sections as ``key=value`` items, at width ``hidden``."""
    import yaml

    raw = yaml.safe_load(Path(config).read_text())
    items = [f"{sec}.{k}={json.dumps(v)}" for sec in ("encoder", "masking", "objective")
             for k, v in (raw.get(sec) or {}).items()]
    items += [f"encoder.{k}={hidden}" for k in ("hidden_dim", "wgcn_hidden", "mlp_hidden")]
    return items


def speed_rate(path: str) -> float | None:
    """Graphs/s of our step on the pre-collated loader in a ``harmony speed pretrain --json`` file."""
    try:
        res = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    for row in res.get("rows", []):
        if row["model"] == "harmony-ssl" and row["loader"] == "fast":
            return float(row["graphs_per_s"])
    return None


def steps(speed_json: str, batch: int, train_s: float, safety: float) -> int:
    """Optimiser steps that fit ``train_s`` seconds at ``safety`` x the measured rate (0: no measurement)."""
    rate = speed_rate(speed_json)
    if rate is None:
        return 0
    return max(20, int(train_s * rate * safety / batch))


def export(run_dir: str, dst: str) -> str:
    """Slim copy (no optimizer / difficulty buffer) of ``encoder.pt``, else of ``last.pt``; its size in MiB.

    From ``last.pt`` (the run was stopped) the loss curve is also written beside ``dst`` from the checkpoint's
    history, since a checkpoint at an epoch end does not refresh ``loss.csv``.
    """
    from harmony_mol.models.io import export_encoder, load_checkpoint
    from harmony_mol.ssl.curves import write_curve_csv

    run = Path(run_dir)
    src = run / "encoder.pt" if (run / "encoder.pt").is_file() else run / "last.pt"
    out = export_encoder(src, dst)
    note = ""
    if src.name == "last.pt":
        history = load_checkpoint(src)["state"]["history"]
        write_curve_csv(history, out.parent / "loss.csv")
        note = f", loss.csv from its {len(history)} history rows"
    return f"{out} from {src.name}: {out.stat().st_size / 2**20:.2f} MiB{note}"


def _loss_rows(path: Path) -> list[dict[str, float]]:
    if not path.is_file():
        return []
    with open(path, newline="") as fh:
        return [{k: float(v) for k, v in r.items()} for r in csv.DictReader(fh)]


def summary(out: str, featurize_json: str, batch: int, total_s: float) -> str:
    """One line with the figures of the run; also written to ``OUT/summary.json``."""
    o = Path(out)
    s: dict[str, Any] = {"batch_size": batch, "total_s": round(total_s, 1), "goal_graphs_per_s": GOAL}
    try:
        feat = json.loads(Path(featurize_json).read_text())
        s["featurize"] = {k: feat.get(k) for k in ("graphs", "rejected", "seconds", "cache_hit")}
    except (OSError, ValueError):
        feat = {}
    rate = speed_rate(str(o / "speed_pretrain.json"))
    s["speed_graphs_per_s"] = rate
    rows = _loss_rows(o / "loss.csv")
    # the first log row holds start-up (compilation, first epoch's unseen-graph masks): steady state is the rest
    loop = [r["graphs_per_s"] for r in rows[1:]] or [r["graphs_per_s"] for r in rows]
    s["train_graphs_per_s_median"] = round(statistics.median(loop), 1) if loop else None
    if rows:
        s.update(steps=int(rows[-1]["step"]), loss_first=rows[0]["loss"], loss_last=rows[-1]["loss"])
    enc = o / "encoder.pt"
    s["encoder_mib"] = round(enc.stat().st_size / 2**20, 2) if enc.is_file() else None
    best = max(v for v in (rate, s["train_graphs_per_s_median"], 0.0) if v is not None)
    n = feat.get("graphs") or 0
    s["goal_met"] = best >= GOAL
    (o / "summary.json").write_text(json.dumps(s, indent=1) + "\n")
    parts = [f"featurize {n:,} graphs in {feat.get('seconds', float('nan')):.1f} s" if feat else "featurize failed",
             f"speed bench {rate:,.0f} graphs/s" if rate else "speed bench failed",
             f"training loop median {s['train_graphs_per_s_median']:,.0f} graphs/s over {s.get('steps', 0)} steps"
             if loop else "no training rows",
             f"goal {GOAL:,}: {'met' if s['goal_met'] else 'NOT met'}"]
    if best and n:
        parts.append(f"one epoch of these {n:,} graphs {n / best:.1f} s, 2M graphs {2e6 / best:.1f} s")
    if rows:
        parts.append(f"loss {rows[0]['loss']:.4g} -> {rows[-1]['loss']:.4g}")
    parts += [f"encoder.pt {s['encoder_mib']} MiB", f"total {total_s:.0f} s"]
    return "SUMMARY " + " | ".join(parts)


def main(argv: list[str]) -> None:
    """Dispatch one subcommand (see the module docstring)."""
    cmd, args = argv[0], argv[1:]
    if cmd == "overrides":
        print("\n".join(overrides(args[0], int(args[1]))))
    elif cmd == "steps":
        print(steps(args[0], int(args[1]), float(args[2]), float(args[3])))
    elif cmd == "export":
        print(export(args[0], args[1]))
    elif cmd == "summary":
        print(summary(args[0], args[1], int(args[2]), float(args[3])))
    else:
        raise SystemExit(f"unknown subcommand {cmd!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
