"""Benchmark report: ``summary.csv``, ``report.md`` and ``summary.png``, all built from ``results.csv`` rows.

``report.md`` puts ours beside the published rows, with provenance; ``summary.png`` shows means with error
bars; no number is typed by hand.
"""

from __future__ import annotations

import datetime as _dt
import functools
import logging
import math
import operator
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from harmony_mol.benchmark.config import BenchmarkConfig
from harmony_mol.benchmark.results import csv_text
from harmony_mol.benchmark.suites import SUITE_DEFS, Suite
from harmony_mol.utils.io import atomic_save_figure, atomic_write_text

logger = logging.getLogger(__name__)

MODEL_LABELS = {"harmony-pretrained": "HarmonyGNN, pretrained", "harmony-scratch": "HarmonyGNN, from scratch",
                "gin": "GIN (same width), from scratch",
                "gin-pretrained": "GIN (same width), attribute masking", "cgcnn": "CGCNN (same width), from scratch",
                "rf": "random forest", "chemprop": "chemprop v2 (D-MPNN)", "dummy": "training mean (dummy)"}


def _group(split: str) -> str:
    return "matbench-5fold" if split.startswith("matbench-fold") else split


def summarize(rows: list[dict[str, Any]], suite: Suite) -> list[dict[str, Any]]:
    """Mean ± std of the test metric per (split group, dataset, model, preset), in display units."""
    acc: dict[tuple[str, str, str, str], list[float]] = defaultdict(list)
    for r in rows:
        if r.get("error") or r.get("test") in (None, ""):
            continue
        acc[(_group(str(r["split"])), str(r["dataset"]), str(r["model"]), str(r["preset"]))].append(
            float(r["test"]) * suite.scale)
    return [{"split": split, "dataset": ds, "model": model, "preset": preset, "mean": float(np.mean(vals)),
             "std": float(np.std(vals)), "n": len(vals), "metric": suite.metric}
            for (split, ds, model, preset), vals in sorted(acc.items())]


def _fmt(mean: float | None, std: float | None = None, n: int | None = None, digits: int = 3) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "–"
    s = f"{mean:.{digits}f}"
    if std is not None:
        s += f" ± {std:.{digits}f}"
    return s + (f" ({n})" if n is not None else "")


def _series_key(model_preset: tuple[str, str]) -> tuple[int, str]:
    return list(MODEL_LABELS).index(model_preset[0]), model_preset[1]


def _avg(vals: list[float | None], digits: int) -> str:
    return f" | {_fmt(float(np.mean(vals)), digits=digits)}" if all(v is not None for v in vals) else " | –"


def _tables(summary: list[dict[str, Any]], suite: Suite, datasets: list[str]) -> list[str]:
    digits = 1 if suite.scale == 100.0 else (4 if suite.name == "crystals" else 3)
    avg = suite.name == "moleculenet-hu"
    lines: list[str] = []
    for split in sorted({s["split"] for s in summary}):
        sub = [s for s in summary if s["split"] == split]
        by = {(s["dataset"], s["model"], s["preset"]): s for s in sub}
        cols = [d for d in datasets if any(s["dataset"] == d for s in sub)]
        lines += [f"### Split: {split} — test {suite.metric}{' (%)' if suite.scale == 100 else ''}, "
                  f"mean ± std (n runs); {'higher' if suite.higher_is_better else 'lower'} is better", "",
                  "| model | preset | " + " | ".join(cols) + (" | avg |" if avg else " |"),
                  "|---|---|" + "---|" * (len(cols) + (1 if avg else 0))]
        for model, preset in sorted({(s["model"], s["preset"]) for s in sub}, key=_series_key):
            hits = [by.get((d, model, preset)) for d in cols]
            cells = [_fmt(h["mean"], h["std"], h["n"], digits) if h else "–" for h in hits]
            tail = _avg([h["mean"] if h else None for h in hits], digits) if avg else ""
            lines.append(f"| {MODEL_LABELS.get(model, model)} | {preset} | " + " | ".join(cells) + tail + " |")
        if anchors := [a for a in suite.anchors if not a.split or a.split == split or split == "matbench-5fold"]:
            lines += ["", "Published rows (different protocol unless stated; see *protocol*):", "",
                      "| published | " + " | ".join(cols) + (" | avg |" if avg else " |") + " protocol | source |",
                      "|---|" + "---|" * (len(cols) + (1 if avg else 0)) + "---|---|"]
            for a in anchors:
                vals = [a.values.get(d) for d in cols]
                lines.append(f"| {a.name} | " + " | ".join(_fmt(v, digits=digits) for v in vals)
                             + (_avg(vals, 1) if avg else "") + f" | {a.protocol} | {a.source} |")
        lines.append("")
    return lines


def verdicts(summary: list[dict[str, Any]], suite: Suite) -> list[str]:
    """Plain sentences computed from the numbers: who wins each (split, dataset); does pretraining help."""
    out = []
    better = operator.gt if suite.higher_is_better else operator.lt
    # max / min keep the first of equals, like a strict-improvement scan
    top = functools.partial(max if suite.higher_is_better else min, key=lambda s: s["mean"])
    for split in sorted({s["split"] for s in summary}):
        for d in sorted({s["dataset"] for s in summary if s["split"] == split}):
            sub = [s for s in summary if s["split"] == split and s["dataset"] == d]
            best = top(sub)
            line = f"- {d} ({split}): best is {MODEL_LABELS.get(best['model'], best['model'])} [{best['preset']}] "
            line += f"{best['mean']:.3f}."
            by = {(s["model"], s["preset"]): s for s in sub}
            for preset in sorted(p for m, p in by if m == "harmony-pretrained"):
                pre, scr = by[("harmony-pretrained", preset)], by.get(("harmony-scratch", preset))
                if scr is not None:
                    diff = pre["mean"] - scr["mean"]
                    size = "within one std" if abs(diff) <= max(pre["std"], scr["std"]) else "beyond one std"
                    line += (f" Pretraining [{preset}] {'helps' if better(pre['mean'], scr['mean']) else 'hurts'}: "
                             f"{diff:+.3f} vs scratch ({size}).")
            if ours := [s for s in sub if s["model"] in ("harmony-pretrained", "harmony-scratch")]:
                o = top(ours)
                line += f" Our best ({o['model']} [{o['preset']}], {o['mean']:.3f})"
                for base in ("gin", "cgcnn", "rf", "chemprop", "dummy"):
                    if other := [s for s in sub if s["model"] == base]:
                        b = top(other)
                        line += f" {'beats' if better(o['mean'], b['mean']) else 'loses to'} {base} ({b['mean']:.3f});"
                line = line.rstrip(";") + "."
            out.append(line)
    return out


def _plot(summary: list[dict[str, Any]], suite: Suite, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = sorted({(s["split"], s["dataset"]) for s in summary})
    series = sorted({(s["model"], s["preset"]) for s in summary}, key=_series_key)
    by = {(s["split"], s["dataset"], s["model"], s["preset"]): s for s in summary}
    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 * len(groups) * max(1, len(series)) / 3), 4.2))
    w = 0.8 / max(1, len(series))
    for i, (model, preset) in enumerate(series):
        hits = [(gi, by[(split, d, model, preset)]) for gi, (split, d) in enumerate(groups)
                if (split, d, model, preset) in by]
        ax.bar([gi - 0.4 + w * (i + 0.5) for gi, _ in hits], [h["mean"] for _, h in hits], w,
               yerr=[h["std"] for _, h in hits], capsize=2, label=f"{MODEL_LABELS.get(model, model)} [{preset}]")
    ax.set_xticks(range(len(groups)), [f"{d}\n{split}" for split, d in groups], fontsize=8)
    ax.set_ylabel(f"test {suite.metric}{' (%)' if suite.scale == 100 else ''}")
    if suite.higher_is_better and summary:
        ax.set_ylim(max(0.0, min(s["mean"] - s["std"] for s in summary) - 5), None)
    ax.legend(fontsize=7, ncol=2)
    ax.set_title(f"{suite.name}: mean ± std over seeds/folds")
    fig.tight_layout()
    atomic_save_figure(fig, path)


def write_report(cfg: BenchmarkConfig, rows: list[dict[str, Any]], command: str = "",
                 extra: dict[str, Any] | None = None,
                 calls: list[dict[str, Any]] | None = None) -> tuple[Path, list[dict[str, Any]]]:
    """Write ``summary.csv``, ``summary.png`` and ``report.md`` into ``cfg.report_dir``; return (report, summary)."""
    from harmony_mol.benchmark.provenance import provenance_lines

    out = cfg.report_dir
    out.mkdir(parents=True, exist_ok=True)
    suite = SUITE_DEFS[cfg.suite]
    summary = summarize(rows, suite)
    atomic_write_text(out / "summary.csv",
                      csv_text(summary, ("split", "dataset", "model", "preset", "mean", "std", "n", "metric")))
    if summary:
        try:
            _plot(summary, suite, out / "summary.png")
        except Exception as exc:  # noqa: BLE001 - a plot failure must not lose the report
            logger.warning("could not draw %s: %s", out / "summary.png", exc)
    seen = {str(r["dataset"]) for r in rows}
    datasets = [d for d in suite.datasets if d in seen] + sorted(seen - set(suite.datasets))
    errors = [r for r in rows if r.get("error")]
    text = [f"# Benchmark `{suite.name}` ({cfg.mode} mode)", "",
            f"Generated {_dt.datetime.now(_dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} by "
            "`harmony_mol.benchmark` from `results.csv` (one row per dataset × preset × split × seed × model; "
            "no number typed by hand). Published rows are copied from `../shared/docs/anchors.md`.", "",
            f"Protocol notes: {suite.notes}", "", "## Results", "", *_tables(summary, suite, datasets),
            "## What the numbers say", "", *(verdicts(summary, suite) or ["- no finished cells yet"]), ""]
    if errors:
        text += ["## Failed cells", ""] + [f"- {r['dataset']} {r['preset']} {r['split']} seed {r['seed']} "
                                           f"{r['model']}: {r['error']}" for r in errors] + [""]
    text += ["## Provenance", "", *provenance_lines(cfg, rows, command, extra or {}, calls or []), ""]
    path = out / "report.md"
    atomic_write_text(path, "\n".join(text))
    return path, summary
