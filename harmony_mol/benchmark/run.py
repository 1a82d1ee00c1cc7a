"""``run_benchmark(cfg)``: run a graph-level suite cell by cell into ``results.csv``, then write the report.

Cells are (dataset, preset, split, seed, model). Every model of a (dataset, split, seed) gets the
same split file (its hash is in each row). ``results.csv`` is rewritten atomically after every cell,
so an interrupted run resumes where it stopped (``resume: true``) as long as the settings hash is
unchanged; rows made with other settings are dropped with a warning. Running the same command in
several processes at once shares the cells out between them (see :class:`ResultStore`).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harmony_mol.benchmark.baselines import composition_features, ecfp_features
from harmony_mol.benchmark.cells import NEURAL, PRETRAINED, CellData, run_cell
from harmony_mol.benchmark.config import BenchmarkConfig
from harmony_mol.benchmark.results import ResultStore, settings_hash
from harmony_mol.benchmark.suites import DEDUPE, SUITE_DEFS
from harmony_mol.utils.provenance import git_commit

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BenchmarkResult:
    """What :func:`run_benchmark` produced: the report, the summary rows and the cell counts."""

    report_path: Path
    rows: list[dict[str, Any]]
    n_run: int
    n_skipped: int
    wall_s: float


def _featurize(cfg: BenchmarkConfig, name: str, kind: str, preset: str, targets: bool = True) -> Any:
    from harmony_mol.data.build import build_dataset
    from harmony_mol.data.config import FeaturizeConfig
    from harmony_mol.data.store import load_dataset

    stem = Path(str(name).rstrip("/")).name.split(".")[0] or "input"  # a file path may be given as the corpus
    out = cfg.scratch_dir / "datasets" / f"{'' if targets else 'corpus-'}{stem}-{preset}"
    fc = FeaturizeConfig(inputs=(name,), output=out, kind=kind,  # type: ignore[arg-type]
                         preset=preset if kind == "molecule" else None, dedupe=name in DEDUPE or not targets,
                         target_columns=None if targets else (), data_dir=cfg.data_dir, progress=False)
    info = build_dataset(fc)
    logger.info("%s (%s): %d graphs, %d rejected rows (%s)", name, preset, info.n_graphs, info.n_rejected,
                info.rejected_path)
    return load_dataset(info.path)


def ensure_checkpoint(cfg: BenchmarkConfig, preset: str, kind: str, arch: str = "harmony") -> Path:
    """The pretrained ``arch`` encoder of ``preset``: the configured file, or a (resumable) pretraining run."""
    from harmony_mol.config import config_to_dict, load_config
    from harmony_mol.models.io import load_checkpoint
    from harmony_mol.ssl.config import PretrainConfig
    from harmony_mol.ssl.pretrain import pretrain

    key = preset if arch == "harmony" else f"{arch}-{preset}"
    given = cfg.pretrain.checkpoints.get(key)
    if given and Path(given).is_file():
        return Path(given)
    config, overrides = ((cfg.pretrain.config, cfg.pretrain.overrides) if arch == "harmony"
                         else (cfg.pretrain.gin_config, cfg.pretrain.gin_overrides))
    if config is None:
        raise ValueError(f"no pretrained {arch} encoder for preset {preset!r}: set pretrain.checkpoints.{key} "
                         f"(missing: {given}) or pretrain.{'' if arch == 'harmony' else 'gin_'}config to pretrain one")
    corpus = cfg.pretrain.corpus or ("matbench-perovskites" if kind == "crystal" else "pretrain-corpus")
    ds = _featurize(cfg, corpus, kind, preset, targets=False)
    out = cfg.scratch_dir / "pretrain" / key
    pcfg = load_config(PretrainConfig, config, [*overrides, f"dataset={ds.path}", f"out_dir={out}"])
    final = out / "encoder.pt"
    if final.is_file() and load_checkpoint(final).get("pretrain_config") == config_to_dict(pcfg):
        logger.info("reusing the finished %s pretraining run %s", preset, final)
        return final
    logger.info("pretraining the %s encoder on %s (%d graphs) into %s", key, corpus, len(ds), out)
    return pretrain(pcfg, resume=(out / "last.pt").is_file())


def _cell_data(cfg: BenchmarkConfig, name: str, kind: str, preset: str, metric: str, need_rf: bool) -> CellData:
    from harmony_mol.data.registry import DATASETS

    ds = _featurize(cfg, name, kind, preset)
    y = ds.tensors()["y"].double().numpy()
    entry = DATASETS[f"{name}-val"] if name == "perov5" else DATASETS[name]
    task = entry.task if entry.task != "none" else "regression"
    feats = None
    if need_rf:
        feats = ecfp_features(ds.inputs) if kind == "molecule" else composition_features(ds.tensors())
    return CellData(name, ds, task, metric, list(ds.target_names), y, feats)


def _splits(cfg: BenchmarkConfig, data: CellData, kind: str) -> list[tuple[str, int, dict[str, list[int]]]]:
    """``(split label, seed, indices)`` for every replicate of one dataset."""
    from harmony_mol.benchmark import splits as S

    if data.name == "matbench-perovskites":
        out = [(f"matbench-fold{fold}", cfg.seeds[0], S.matbench_split(data.ds, fold, cfg.seeds[0]))
               for fold in cfg.folds]
    elif data.name == "perov5":
        base = S.by_input_file(data.ds)
        out = [("official", s, base) for s in cfg.seeds]
    else:
        out = []
        for method in cfg.splits:
            if kind != "molecule":
                raise ValueError(f"{data.name}: {method} splits are for molecules")
            fixed = S.molecule_split(data.ds, method, 0) if method == "scaffold" else None
            out += [(method, s, fixed if fixed is not None else S.molecule_split(data.ds, method, s))
                    for s in cfg.seeds]
    return [(lab, s, S.subsample(sp, cfg.max_rows, s)) for lab, s, sp in out]


def _unavailable(cfg: BenchmarkConfig, kind: str) -> dict[str, str]:
    """Models of ``cfg`` that cannot run here, with the reason (logged, recorded in the report)."""
    out: dict[str, str] = {"cgcnn": "CGCNN is a crystal model"} if kind != "crystal" and "cgcnn" in cfg.models else {}
    if "chemprop" in cfg.models:
        if kind == "crystal":
            out["chemprop"] = "chemprop is a molecule model"
        else:
            from harmony_mol.benchmark.chemprop_runner import ChempropUnavailable, chemprop_command

            try:
                chemprop_command(cfg.chemprop.command)
            except ChempropUnavailable as exc:
                out["chemprop"] = str(exc)
    for model, why in out.items():
        logger.warning("not running %s: %s", model, why)
    return out


def run_benchmark(cfg: BenchmarkConfig, command: str = "") -> BenchmarkResult:
    """Run every cell of ``cfg`` not already in ``results.csv`` and (re)write the report.

    Raises:
        ValueError: unknown datasets, a pretrained model without a checkpoint source.
    """
    from harmony_mol.benchmark.report import write_report
    from harmony_mol.benchmark.splits import split_hash
    from harmony_mol.data.splits import Split, save_split
    from harmony_mol.utils.io import sha256_file

    t0 = time.perf_counter()
    suite = SUITE_DEFS[cfg.suite]
    kind = "crystal" if cfg.suite == "crystals" else "molecule"
    names = list(cfg.datasets or suite.datasets)
    presets = list(cfg.presets or suite.presets)
    store = ResultStore(cfg.report_dir / "results.csv", settings_hash(cfg), resume=cfg.resume,
                        claims_dir=cfg.scratch_dir / "claims")
    call = {"pid": os.getpid(), "call": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}
    store.log_call({**call, "command": command or "run_benchmark(cfg)", "commit": git_commit(),
                    "host": socket.gethostname(), "datasets": names, "seeds": list(cfg.seeds),
                    "models": list(cfg.models)})
    ckpts = {(m, p): ensure_checkpoint(cfg, p, kind, arch) for m, arch in PRETRAINED.items() if m in cfg.models
             for p in presets}
    digests = {k: sha256_file(c)[:16] for k, c in ckpts.items()}
    skipped_models = _unavailable(cfg, kind)
    n_run = n_skip = 0
    for name in names:
        for pi, preset in enumerate(presets):
            models = [m for m in cfg.models if (m in NEURAL or pi == 0) and m not in skipped_models]
            if cfg.chemprop.datasets and name not in cfg.chemprop.datasets:
                models = [m for m in models if m != "chemprop"]
            data = _cell_data(cfg, name, kind, preset, suite.metric, need_rf="rf" in models)
            for label, seed, split in _splits(cfg, data, kind):
                shash = split_hash(split)
                sfile = cfg.scratch_dir / "splits" / f"{name}-{preset}-{label}-s{seed}.json"
                save_split(Split(split["train"], split["valid"], split["test"], meta={"label": label}), sfile,
                           data.ds.row_ids)
                for model in models:
                    row_preset = preset if model in NEURAL else "-"
                    key = (name, row_preset, label, seed, model)
                    digest = digests.get((model, preset), "")
                    if not store.claim(key, digest):  # done, or another process is running it
                        n_skip += 1
                        continue
                    run_name = f"{name}-{row_preset}-{label}-{model}-s{seed}"
                    logger.info("cell %s (%d train / %d valid / %d test)", run_name, len(split["train"]),
                                len(split["valid"]), len(split["test"]))
                    res = run_cell(cfg, data, model, split, sfile, seed, ckpts.get((model, preset)), run_name)
                    store.add({"suite": cfg.suite, "mode": cfg.mode, "dataset": name, "preset": row_preset,
                               "split": label, "seed": seed, "model": model, "metric": suite.metric, **res,
                               "n_train": len(split["train"]), "n_valid": len(split["valid"]),
                               "n_test": len(split["test"]), "split_hash": shash, "checkpoint": digest})
                    n_run += 1
                    logger.info("cell %s: test %s = %s (%.1f s)", run_name, suite.metric, res["test"], res["wall_s"])
    wall = time.perf_counter() - t0
    store.log_call({**call, "ended": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "cells_run": n_run,
                    "cells_skipped": n_skip, "wall_s": round(wall, 1)})
    extra = {"checkpoints": {f"{m}/{p}": str(c) for (m, p), c in ckpts.items()}, "wall_s_this_call": round(wall, 1),
             "models_not_run": skipped_models, "cells_run": n_run, "cells_skipped": n_skip}
    report, summary = write_report(cfg, store.refresh(), command=command, extra=extra, calls=store.calls())
    logger.info("benchmark %s: %d cells run, %d already done, report %s", cfg.suite, n_run, n_skip, report)
    return BenchmarkResult(report, summary, n_run, n_skip, wall)


def rebuild_report(cfg: BenchmarkConfig, command: str = "") -> BenchmarkResult:
    """Rewrite the report from ``results.csv`` without running anything (rows with ``cfg``'s settings)."""
    from harmony_mol.benchmark.report import write_report

    store = ResultStore(cfg.report_dir / "results.csv", settings_hash(cfg), resume=True)
    if not store.rows:
        raise ValueError(f"{store.path}: no finished cells made with these settings (hash {store.settings}); "
                         "pass the config the run used")
    ckpts = {p: str(c) for p, c in cfg.pretrain.checkpoints.items() if Path(c).is_file()}
    report, summary = write_report(cfg, store.rows, command=command, extra={"checkpoints": ckpts},
                                   calls=store.calls())
    return BenchmarkResult(report, summary, 0, len(store.rows), 0.0)
