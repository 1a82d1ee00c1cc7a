"""Library side of the quickstart pipeline: stage configs from one YAML file, and the run summary.

The Prefect flows in ``flows/`` only sequence these pieces (featurize -> pretrain -> finetune ->
predict -> report); everything they need to compute lives here so it can be tested without Prefect.

A pipeline YAML has one section per variant (``molecule`` and ``crystal``); each holds partial
stage configs. Paths that link the stages (dataset directory, encoder checkpoint, output folders)
are filled in from ``out_dir`` so a user only edits what matters::

    out_dir: runs/quickstart
    molecule:
      featurize: {inputs: [data/molecules/freesolv.csv], target_columns: [expt]}
      pretrain: {epochs: 3, batch_size: 64}
      finetune: {name: freesolv, optim: {epochs: 30}}
      predict_input: data/molecules/freesolv.csv
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from harmony_mol.config import config_from_dict, load_config
from harmony_mol.data.config import FeaturizeConfig
from harmony_mol.finetune.config import FinetuneConfig
from harmony_mol.ssl.config import PretrainConfig
from harmony_mol.utils.io import atomic_write_text, try_lock

if TYPE_CHECKING:
    from filelock import FileLock

logger = logging.getLogger(__name__)

__all__ = ["DeployConfig", "PipelineConfig", "deployment_parameters", "PipelineVariant", "StageConfigs", "acquire_run_lock", "heldout_table", "load_pipeline", "metrics_rows", "plots_markdown", "write_heldout",
           "next_max_steps", "stage_configs", "summary_markdown", "write_summary"]

Kind = Literal["molecule", "crystal"]


@dataclass(frozen=True)
class PipelineVariant:
    """Partial stage configs of one variant (keys as in the stage YAML files).

    Args:
        featurize: :class:`~harmony_mol.data.config.FeaturizeConfig` fields (``output`` is filled in).
        pretrain: :class:`~harmony_mol.ssl.config.PretrainConfig` fields (``dataset``/``out_dir`` filled in).
        finetune: :class:`~harmony_mol.finetune.config.FinetuneConfig` fields (``data.input``,
            ``model.pretrained`` and ``out_dir`` filled in).
        predict_input: File to predict with the fine-tuned bundle (``None`` = skip predictions).
        predict_heldout: Predict the fine-tuning test rows instead, written as a held-out input
            (``<root>/heldout.csv``, or ``<root>/heldout/`` for a structure folder) that no model stage
            trained on or selected with; the predictions then sit beside the measured values.
    """

    featurize: dict[str, Any] = field(default_factory=dict)
    pretrain: dict[str, Any] = field(default_factory=dict)
    finetune: dict[str, Any] = field(default_factory=dict)
    predict_input: str | None = None
    predict_heldout: bool = False

    def __post_init__(self) -> None:
        if self.predict_input and self.predict_heldout:
            raise ValueError("give predict_input or predict_heldout, not both")


@dataclass(frozen=True)
class PipelineConfig:
    """The quickstart / pipeline file (``configs/quickstart.yaml``).

    Args:
        out_dir: Run root; each variant writes under ``<out_dir>/<kind>/``.
        molecule: The molecule variant (default).
        crystal: The crystal variant (``--crystal``).
    """

    out_dir: Path = Path("runs/quickstart")
    molecule: PipelineVariant = field(default_factory=PipelineVariant)
    crystal: PipelineVariant = field(default_factory=PipelineVariant)


@dataclass(frozen=True)
class StageConfigs:
    """Resolved, linked configs of one pipeline variant (all paths absolute)."""

    kind: Kind
    root: Path
    featurize: FeaturizeConfig
    pretrain: PretrainConfig
    finetune: FinetuneConfig
    predict_input: Path | None
    predictions: Path
    predict_heldout: bool = False


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in extra.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _abs(path: str | Path, base: Path) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else (base / p)


def _abs_inputs(inputs: list[str], base: Path) -> list[str]:
    # Registry names (no path separator, not an existing file) are left for the registry to resolve.
    out = []
    for s in inputs:
        cand = _abs(s, base)
        out.append(str(cand) if ("/" in s or cand.exists()) else s)
    return out


def stage_configs(cfg: PipelineConfig, kind: Kind = "molecule", base_dir: Path | None = None,
                  out_dir: Path | None = None) -> StageConfigs:
    """Build the three linked stage configs of one variant.

    Args:
        cfg: The pipeline config.
        kind: ``molecule`` or ``crystal``.
        base_dir: Relative input paths are resolved against this (default: current directory).
        out_dir: Overrides ``cfg.out_dir``.

    Raises:
        ValueError: unknown kind, a variant without inputs, or invalid stage values (the message names
            the stage).
    """
    if kind not in ("molecule", "crystal"):
        raise ValueError(f"kind must be 'molecule' or 'crystal', got {kind!r}")
    var: PipelineVariant = getattr(cfg, kind)
    base = Path(base_dir or Path.cwd()).resolve()
    root = _abs(out_dir or cfg.out_dir, base).resolve() / kind
    fz = dict(var.featurize)
    if not fz.get("inputs"):
        raise ValueError(f"pipeline variant {kind!r} has no featurize.inputs")
    fz["inputs"] = _abs_inputs(list(fz["inputs"]), base)
    fz.setdefault("kind", kind)
    fz["output"] = str(root / "dataset")
    featurize = config_from_dict(FeaturizeConfig, fz, where=f"pipeline[{kind}].featurize")
    pre = _merge(var.pretrain, {"dataset": str(root / "dataset"), "out_dir": str(root / "pretrain")})
    pretrain = config_from_dict(PretrainConfig, pre, where=f"pipeline[{kind}].pretrain")
    ft = _merge({"name": kind}, var.finetune)
    ft = _merge(ft, {"data": {"input": str(root / "dataset")},
                     "model": {"pretrained": str(root / "pretrain" / "encoder.pt")},
                     "out_dir": str(root / "finetune")})
    finetune = config_from_dict(FinetuneConfig, ft, where=f"pipeline[{kind}].finetune")
    pred = _abs(var.predict_input, base) if var.predict_input else None
    return StageConfigs(kind=kind, root=root, featurize=featurize, pretrain=pretrain, finetune=finetune,
                        predict_input=pred, predictions=root / "predictions.csv",
                        predict_heldout=bool(var.predict_heldout))


def load_pipeline(path: str | Path | None, overrides: list[str] | None = None) -> PipelineConfig:
    """Load a pipeline YAML strictly (see :func:`harmony_mol.config.load_config`)."""
    return load_config(PipelineConfig, path, overrides)


# ------------------------------------------------------------------------------------ held out
HELDOUT_MARKER = "heldout.json"


def write_heldout(run_dir: str | Path, inputs: list[str], kind: str, root: str | Path) -> Path:
    """Write the fine-tuning test rows (first seed) as an input file for the predict stage.

    Molecules: ``<root>/heldout.csv`` (``id, smiles, <target>...``). Crystals read from one structure
    folder: ``<root>/heldout/`` with the test structures' files and an ``id_prop.csv`` of their measured
    values (so predict keeps them beside the predictions).

    Raises:
        ValueError: no ``test_predictions.csv`` in ``run_dir``, an empty test split, or crystals that did
            not come from one structure folder.
    """
    import shutil

    import pandas as pd

    from harmony_mol.utils.io import atomic_directory, atomic_open

    src = Path(run_dir) / "test_predictions.csv"
    if not src.is_file():
        raise ValueError(f"{src}: not found; the fine-tuning run wrote no test predictions")
    tp = pd.read_csv(src, dtype={"id": str, "input": str}, keep_default_na=False, na_values=[""])
    if tp.empty:
        raise ValueError(f"{src}: the test split is empty; nothing is held out to predict")
    tp = tp[tp["seed"] == tp["seed"].iloc[0]]
    truths = [c for c in tp.columns if c not in ("seed", "row_id", "id", "input") and not c.endswith("_pred")]
    root = Path(root)
    if kind == "molecule":
        out = root / "heldout.csv"
        df = pd.DataFrame({"id": tp["id"], "smiles": tp["input"], **{c: tp[c] for c in truths}})
        out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_open(out, "w", encoding="utf-8", newline="") as fh:
            df.to_csv(fh, index=False)
        return out
    folders = [Path(p) for p in inputs]
    if len(folders) != 1 or not folders[0].is_dir():
        raise ValueError(f"predict_heldout for crystals needs one structure folder as input, got {inputs}")
    from featurizers.crystal_readers import resolve_structure_file

    out = root / "heldout"
    with atomic_directory(out, marker=HELDOUT_MARKER) as tmp:
        rows = []
        for item_id, *ys in zip(tp["id"], *(tp[c] for c in truths)):
            f = resolve_structure_file(folders[0], str(item_id))
            if f is None:
                raise ValueError(f"{folders[0]}: no structure file for held-out id {item_id!r}")
            shutil.copy2(f, tmp / f.name)
            rows.append([f.name, *ys])
        pd.DataFrame(rows).to_csv(tmp / "id_prop.csv", header=False, index=False)
        (tmp / HELDOUT_MARKER).write_text(json.dumps({"from": str(src), "n": len(rows)}) + "\n")
    return out


def heldout_table(predictions: str | Path, target_names: list[str], n: int = 8) -> list[dict[str, Any]]:
    """First ``n`` rows of a held-out predictions CSV: id, then measured and predicted value per target."""
    import pandas as pd

    df = pd.read_csv(predictions, keep_default_na=False, na_values=[""], nrows=n, dtype={"id": str})
    out = []
    for _, r in df.iterrows():
        row: dict[str, Any] = {"id": r.get("id", r.get("row_id", ""))}
        for t in target_names:
            measured = r.get(t, r.get("target")) if len(target_names) == 1 else r.get(t)
            row[f"{t} measured"] = measured
            row[f"{t} predicted"] = r.get(f"{t}_pred")
        out.append(row)
    return out


# ------------------------------------------------------------------------------------- summary
def metrics_rows(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """Flatten a fine-tuning ``metrics.json`` summary into table rows (split, metric, mean, std, n)."""
    rows = []
    for split, by_metric in (metrics.get("summary") or {}).items():
        for name, v in by_metric.items():
            rows.append({"split": split, "metric": name, "mean": round(float(v["mean"]), 5),
                         "std": round(float(v["std"]), 5), "n_seeds": int(v["n"])})
    return rows


#: Plots above this size are linked by path instead of embedded (artifacts live in Prefect's database).
MAX_EMBED_BYTES = 1_500_000


def plots_markdown(paths: list[Path], max_bytes: int = MAX_EMBED_BYTES) -> str:
    """Markdown that shows PNG plots themselves (``data:image/png;base64`` URIs), so a Prefect artifact
    displays them wherever the UI runs; a file larger than ``max_bytes`` is named by path instead."""
    import base64

    out = []
    for p in paths:
        p = Path(p)
        if not p.is_file():
            continue
        if p.stat().st_size > max_bytes:
            out.append(f"- `{p}` ({p.stat().st_size:,} bytes, not embedded)")
            continue
        data = base64.b64encode(p.read_bytes()).decode("ascii")
        out.append(f"**{p.stem}**\n\n![{p.stem}](data:image/png;base64,{data})\n")
    return "\n".join(out) + ("\n" if out else "")


def summary_markdown(kind: str, featurized: dict[str, Any], encoder: str, finetuned: dict[str, Any],
                     predictions: str | None, wall_s: float | None = None, embed_plots: bool = False) -> str:
    """Markdown report of one pipeline run (also published as a Prefect artifact).

    Args:
        kind: Variant name.
        featurized: ``{"path", "n_graphs", "n_rejected", "rejected_path", "cache_hit"}``.
        encoder: Encoder checkpoint path.
        finetuned: ``{"bundle_path", "out_dir", "metrics"}`` (metrics = ``metrics.json`` content).
        predictions: Predictions CSV (or ``None``).
        wall_s: Total seconds.
        embed_plots: Show the plots themselves (base64 PNGs, for the Prefect artifact) instead of their paths.
    """
    m = finetuned["metrics"]
    lines = [f"# harmony-mol pipeline ({kind})", "",
             f"- dataset: `{featurized['path']}` ({featurized['n_graphs']} graphs, {featurized['n_rejected']} rejected"
             f"{', cache hit' if featurized.get('cache_hit') else ''}; rejected rows: `{featurized.get('rejected_path')}`)",
             f"- encoder: `{encoder}`",
             f"- model bundle: `{finetuned['bundle_path']}`",
             f"- plots: `{Path(finetuned['out_dir']) / 'plots'}`"]
    pngs = sorted((Path(finetuned["out_dir"]) / "plots").glob("*.png")) + sorted(Path(encoder).parent.glob("*.png"))
    if not embed_plots:
        lines += [f"  - `{p}`" for p in pngs]
    if predictions:
        lines.append(f"- predictions: `{predictions}`")
        names = list(m.get("target_names", []))
        try:
            rows = heldout_table(predictions, names)
        except (OSError, ValueError, KeyError):
            rows = []
        if rows and any(v is not None for r in rows for k, v in r.items() if k.endswith("measured")):
            lines += ["", "Held-out predictions (first rows; never trained on):", "",
                      "| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
            lines += ["| " + " | ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in r.values()) + " |"
                      for r in rows]
    if wall_s is not None:
        lines.append(f"- wall time: {wall_s:.1f} s")
    lines += ["", f"Task: {m.get('task_type')} on {', '.join(m.get('target_names', []))}; "
              f"seeds {m.get('seeds')}; model selection on {m.get('metric')}.", "",
              "| split | metric | mean | std | seeds |", "|---|---|---|---|---|"]
    for r in metrics_rows(m):
        lines.append(f"| {r['split']} | {r['metric']} | {r['mean']:.4g} | {r['std']:.2g} | {r['n_seeds']} |")
    text = "\n".join(lines) + "\n"
    if embed_plots and pngs:
        text += "\n## Plots\n\n" + plots_markdown(pngs)
    return text


def write_summary(root: Path, markdown: str, payload: dict[str, Any]) -> Path:
    """Write ``summary.md`` and ``summary.json`` under ``root`` (atomically); return the markdown path."""
    atomic_write_text(root / "summary.json", json.dumps(payload, indent=2, default=str) + "\n")
    path = root / "summary.md"
    atomic_write_text(path, markdown)
    return path


# ---------------------------------------------------------------------------------- run lock
def acquire_run_lock(out_dir: str | Path) -> FileLock:
    """Lock ``<out_dir>/.run.lock`` (see :func:`~harmony_mol.utils.io.try_lock`); ``.release()`` it when done.

    Used by scheduled pretraining so that two overlapping runs never write the same ``last.pt``. The OS
    frees the lock of a killed run.

    Raises:
        RuntimeError: another process holds the lock.
    """
    path = Path(out_dir) / ".run.lock"
    if (lock := try_lock(path)) is None:
        raise RuntimeError(f"another run is already using {out_dir}; refusing to start an overlapping run "
                           f"(lock file {path})")
    return lock


def next_max_steps(out_dir: str | Path, steps_per_run: int) -> int:
    """Step budget of the next scheduled run: the step stored in ``<out_dir>/last.pt`` + ``steps_per_run``.

    Lets a scheduled deployment keep training the same encoder a bit further on every run (pretraining
    resumes exactly from ``last.pt``; ``max_steps`` is not part of the resume compatibility check).
    """
    if steps_per_run < 1:
        raise ValueError(f"steps_per_run must be >= 1, got {steps_per_run}")
    last = Path(out_dir) / "last.pt"
    step = 0
    if last.is_file():
        from harmony_mol.models.io import load_checkpoint

        step = int(load_checkpoint(last).get("step", 0))
    return step + steps_per_run


# ------------------------------------------------------------------------ scheduled pretraining
@dataclass(frozen=True)
class DeployConfig:
    """A scheduled pretraining deployment (``configs/deploy.yaml``).

    Args:
        name: Deployment name (flow ``pretrain``).
        cron: Cron schedule (server time zone unless ``timezone``).
        timezone: IANA time zone of the cron schedule (``None`` = UTC).
        pretrain_config: PretrainConfig YAML.
        dataset: Featurized dataset directory (``harmony featurize`` output).
        out_dir: Fixed run directory of this deployment: every run resumes from its ``last.pt``.
        resume: Resume from ``<out_dir>/last.pt`` (keep true for scheduled runs).
        steps_per_run: Optimiser steps added by each run (0 = train to the config's epochs once).
        overrides: Extra ``key=value`` PretrainConfig overrides.
        concurrency_limit: Deployment concurrency limit (1 = never two runs at once).
        collision_strategy: What a run due while another is running does: ``CANCEL_NEW`` or ``ENQUEUE``.
    """

    name: str = "harmony-pretrain"
    cron: str = "0 2 * * *"
    timezone: str | None = None
    pretrain_config: str = "configs/pretrain/cpu_small.yaml"
    dataset: str = ""
    out_dir: str = "runs/scheduled/pretrain"
    resume: bool = True
    steps_per_run: int = 0
    overrides: tuple[str, ...] = ()
    concurrency_limit: int = 1
    collision_strategy: Literal["CANCEL_NEW", "ENQUEUE"] = "CANCEL_NEW"

    def __post_init__(self) -> None:
        if not self.dataset:
            raise ValueError("deploy config: 'dataset' (a featurized dataset directory) is required")
        if self.concurrency_limit < 1:
            raise ValueError(f"concurrency_limit must be >= 1, got {self.concurrency_limit}")


def deployment_parameters(cfg: DeployConfig, base_dir: Path | None = None) -> dict[str, Any]:
    """Parameters of ``pretrain_flow`` for a deployment (paths made absolute; out_dir fixed)."""
    base = Path(base_dir or Path.cwd()).resolve()
    overrides = [f"dataset={_abs(cfg.dataset, base)}", f"out_dir={_abs(cfg.out_dir, base)}", *cfg.overrides]
    return {"config_path": str(_abs(cfg.pretrain_config, base)), "overrides": overrides,
            "resume": cfg.resume, "steps_per_run": cfg.steps_per_run}
