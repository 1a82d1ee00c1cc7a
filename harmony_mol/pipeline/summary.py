"""The report of one pipeline run: ``summary.md`` / ``summary.json``, also the Prefect artifact's markdown."""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

import pandas as pd

from harmony_mol.utils.io import atomic_write_text

if TYPE_CHECKING:
    from harmony_mol.data.build import DatasetInfo
    from harmony_mol.finetune.train import FinetuneResult

#: Plots above this size are linked by path instead of embedded (artifacts live in Prefect's database).
MAX_EMBED_BYTES = 1_500_000


@dataclass(frozen=True)
class PipelineRun:
    """What one pipeline variant produced (:func:`~harmony_mol.pipeline.run.run_pipeline`): the stage results.

    ``predictions`` is ``None`` without a predict stage, ``summary_path`` until ``summary.md`` is written.
    """

    kind: str
    dataset: DatasetInfo
    encoder: Path
    finetuned: FinetuneResult
    predictions: Path | None = None
    wall_s: float | None = None
    summary_path: Path | None = None

    @property
    def plots(self) -> Path:
        """The fine-tuning run's plot folder."""
        return Path(self.finetuned.out_dir) / "plots"


def heldout_table(predictions: str | Path, target_names: list[str], n: int = 8) -> list[dict[str, Any]]:
    """First ``n`` rows of a predictions CSV: ``id``, then ``<target> measured`` and ``<target> predicted``."""
    df = pd.read_csv(predictions, keep_default_na=False, na_values=[""], nrows=n, dtype={"id": str})
    out = []
    for _, r in df.iterrows():
        row: dict[str, Any] = {"id": r.get("id", r.get("row_id", ""))}
        for t in target_names:
            row[f"{t} measured"] = r.get(t, r.get("target")) if len(target_names) == 1 else r.get(t)
            row[f"{t} predicted"] = r.get(f"{t}_pred")
        out.append(row)
    return out


def metrics_rows(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """Flatten a fine-tuning ``metrics.json`` summary into one row per (split, metric): mean, std, n_seeds."""
    return [{"split": split, "metric": name, "mean": round(float(v["mean"]), 5), "std": round(float(v["std"]), 5),
             "n_seeds": int(v["n"])}
            for split, by_metric in (metrics.get("summary") or {}).items() for name, v in by_metric.items()]


def plots_markdown(paths: list[Path], max_bytes: int = MAX_EMBED_BYTES) -> str:
    """Markdown that shows PNG plots themselves (``data:image/png;base64`` URIs, so a Prefect artifact shows them).

    Args:
        paths: PNG files (missing ones are skipped; none left: empty markdown).
        max_bytes: A larger file is named by path instead of embedded.
    """
    out = []
    for p in map(Path, paths):
        if not p.is_file():
            continue
        if (size := p.stat().st_size) > max_bytes:
            out.append(f"- `{p}` ({size:,} bytes, not embedded)")
        else:
            data = base64.b64encode(p.read_bytes()).decode("ascii")
            out.append(f"**{p.stem}**\n\n![{p.stem}](data:image/png;base64,{data})\n")
    return "\n".join(out) + ("\n" if out else "")


def summary_markdown(run: PipelineRun, embed_plots: bool = False) -> str:
    """Markdown report of one pipeline run (``summary.md``; also published as a Prefect artifact).

    Args:
        run: The run.
        embed_plots: Show the plots themselves (base64 PNGs, for the Prefect artifact) instead of their paths.
    """
    ds, m = run.dataset, run.finetuned.metrics
    lines = [f"# harmony-mol pipeline ({run.kind})", "",
             f"- dataset: `{ds.path}` ({ds.n_graphs} graphs, {ds.n_rejected} rejected"
             f"{', cache hit' if ds.cache_hit else ''}; rejected rows: `{ds.rejected_path}`)",
             f"- encoder: `{run.encoder}`",
             f"- model bundle: `{run.finetuned.bundle_path}`",
             f"- plots: `{run.plots}`"]
    pngs = sorted(run.plots.glob("*.png")) + sorted(Path(run.encoder).parent.glob("*.png"))
    if not embed_plots:
        lines += [f"  - `{p}`" for p in pngs]
    if run.predictions:
        lines.append(f"- predictions: `{run.predictions}`")
        try:
            rows = heldout_table(run.predictions, list(m.get("target_names", [])))
        except (OSError, ValueError, KeyError):
            rows = []
        if rows and any(v is not None for r in rows for k, v in r.items() if k.endswith("measured")):
            lines += ["", "Held-out predictions (first rows; never trained on):", "",
                      "| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
            lines += ["| " + " | ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in r.values()) + " |"
                      for r in rows]
    if run.wall_s is not None:
        lines.append(f"- wall time: {run.wall_s:.1f} s")
    lines += ["", f"Task: {m.get('task_type')} on {', '.join(m.get('target_names', []))}; "
              f"seeds {m.get('seeds')}; model selection on {m.get('metric')}.", "",
              "| split | metric | mean | std | seeds |", "|---|---|---|---|---|"]
    lines += [f"| {r['split']} | {r['metric']} | {r['mean']:.4g} | {r['std']:.2g} | {r['n_seeds']} |"
              for r in metrics_rows(m)]
    text = "\n".join(lines) + "\n"
    if embed_plots and pngs:
        text += "\n## Plots\n\n" + plots_markdown(pngs)
    return text


def _plain(obj: Any) -> Any:
    # paths as text; numpy scalars in the metrics as floats
    return str(obj) if isinstance(obj, PurePath) else float(obj)


def write_summary(root: Path, run: PipelineRun) -> Path:
    """Write ``<root>/summary.md`` and ``<root>/summary.json`` (atomically); returns the markdown's path."""
    payload = {"kind": run.kind, "dataset": asdict(run.dataset), "encoder": run.encoder,
               "bundle": run.finetuned.bundle_path, "plots": run.plots, "predictions": run.predictions,
               "metrics": run.finetuned.metrics.get("summary", {}),
               "wall_s": None if run.wall_s is None else round(run.wall_s, 1)}
    atomic_write_text(root / "summary.json", json.dumps(payload, indent=2, default=_plain) + "\n")
    path = root / "summary.md"
    atomic_write_text(path, summary_markdown(run))
    return path
