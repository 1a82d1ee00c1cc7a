"""``harmony benchmark nodes``: run the node-classification reproduction and write the report.

Each dataset's outcome is written to ``<out>/records/<dataset>.json`` as soon as it finishes (so datasets
can run in separate processes, and a killed run keeps what it finished); the report is then rebuilt
from every JSON file present in ``<out>/records``. After the HarmonyGNN run, the reference models named in
``cfg.baselines`` (:mod:`harmony_mol.benchmark.nodes.baselines`) run on the same probe and splits; their rows go to the
record's ``baseline_rows`` (the record is rewritten after each one).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from pathlib import Path
from typing import Any

import torch

from harmony_mol.benchmark.nodes.baselines import run_baselines
from harmony_mol.benchmark.nodes.config import NodeRunConfig
from harmony_mol.benchmark.nodes.datasets import DatasetUnavailable, load_node_dataset
from harmony_mol.benchmark.nodes.report import write_report
from harmony_mol.benchmark.nodes.train import encoder_config, raw_feature_probe, run_dataset, summarize
from harmony_mol.config import config_to_dict, load_config
from harmony_mol.utils.io import atomic_write_json
from harmony_mol.utils.provenance import git_commit, hardware, versions

logger = logging.getLogger(__name__)

#: The paper's eight main-table datasets available here (+ the Platonov Cornell variant).
DEFAULT_DATASETS: tuple[str, ...] = ("cornell", "texas", "wisconsin", "actor", "cora", "citeseer",
                                     "chameleon-filtered", "squirrel-filtered")

#: Overrides applied by ``--quick`` (CI smoke test: 1 split, a few epochs).
QUICK: dict[str, Any] = {"epochs": 6, "eval_every": 3, "warmup": 2, "mask_warmup": 3, "probe_epochs": 50,
                         "splits": 1, "seeds": [0], "supervised.epochs": 6, "graphmae.epochs": 6,
                         "graphmae.eval_every": 3, "graphmae.hidden": 64}


def load_run_config(dataset: str, config_dir: Path | None, quick: bool = False,
                    overrides: list[str] | None = None) -> tuple[NodeRunConfig, str]:
    """(config, where it came from) for ``dataset``: ``<config_dir>/<dataset>.yaml`` if present, else the defaults."""
    path = config_dir / f"{dataset}.yaml" if config_dir is not None else None
    if path is not None and not path.is_file():
        path = None
    over: dict[str, Any] = {"dataset": dataset, **(QUICK if quick else {})}
    cfg = load_config(NodeRunConfig, path, [f"{k}={json.dumps(v)}" for k, v in over.items()] + list(overrides or []))
    return cfg, str(path) if path is not None else "<defaults>"


def run_one(dataset: str, out: Path, config_dir: Path | None, quick: bool = False,
            overrides: list[str] | None = None, threads: int | None = None) -> dict[str, Any] | None:
    """Run one dataset and write ``<out>/records/<dataset>.json``; None when its files are missing here."""
    if threads:
        torch.set_num_threads(threads)
    cfg, where = load_run_config(dataset, config_dir, quick, overrides)
    try:
        ds = load_node_dataset(dataset, to_undirected=cfg.to_undirected)
    except DatasetUnavailable as exc:
        logger.warning("skipping %s: %s", dataset, exc)
        return None
    t0 = time.perf_counter()
    results, curves = run_dataset(cfg, ds)
    wall = time.perf_counter() - t0
    raw_rows, raw_probe = raw_feature_probe(cfg, ds)
    record = {
        "dataset": dataset, "config_file": where, "config": config_to_dict(cfg),
        "encoder_config": config_to_dict(encoder_config(cfg)), "summary": summarize(results),
        "splits": [dataclasses.asdict(r) for r in results], "curves": curves, "quick": quick,
        "dataset_meta": dict(ds.meta), "num_splits_available": ds.num_splits,
        "wall_seconds": wall, "hardware": hardware(), "git_commit": git_commit(),
        "versions": versions(), "raw_probe": raw_probe,
        "baseline_rows": raw_rows if "raw-features" in cfg.baselines else [],
        "baseline_seconds": {},
    }
    path = out / "records" / f"{dataset}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, record)
    for name in cfg.baselines:
        if name != "raw-features":
            rows, secs = run_baselines(cfg, ds, [name])
            record["baseline_rows"] += rows
            record["baseline_seconds"].update(secs)
            atomic_write_json(path, record)
    return record


def load_runs(out: Path) -> list[dict[str, Any]]:
    """Every ``<out>/records/*.json`` record."""
    return [json.loads(p.read_text()) for p in sorted((out / "records").glob("*.json"))]


def run_benchmark(datasets: list[str], out: Path, config_dir: Path | None, quick: bool = False,
                  overrides: list[str] | None = None, command: str = "", threads: int | None = None
                  ) -> list[dict[str, Any]]:
    """Run ``datasets`` one after the other, then rebuild the report from all runs in ``out``.

    Returns the records of the datasets run now (missing datasets are skipped with a warning).
    """
    done = [run_one(name, out, config_dir, quick, overrides, threads) for name in datasets]
    write_report(out, load_runs(out), command=command)
    return [rec for rec in done if rec is not None]


def rebuild_report(out: Path, command: str = "") -> Path:
    """Rewrite ``report.md``/CSV/plot from the stored runs (no pretraining).

    Records written before the raw-feature reference or the baseline rows existed get the raw-feature
    probe computed now (probes only, cheap) and saved; the trained baselines (random-init, supervised,
    graphmae) are only produced by a full run and show as missing in the report.
    """
    for path in sorted((out / "records").glob("*.json")):
        rec = json.loads(path.read_text())
        if "raw_probe" not in rec or "baseline_rows" not in rec:
            cfg = load_config(NodeRunConfig, None, [f"{k}={json.dumps(v)}" for k, v in rec["config"].items()])
            ds = load_node_dataset(rec["dataset"], to_undirected=cfg.to_undirected)
            raw_rows, rec["raw_probe"] = raw_feature_probe(cfg, ds)
            rec.setdefault("baseline_rows", raw_rows)
            atomic_write_json(path, rec)
    return write_report(out, load_runs(out), command=command)

