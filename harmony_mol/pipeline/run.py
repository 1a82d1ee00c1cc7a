"""``run_pipeline``: featurize -> pretrain -> fine-tune -> held-out predict -> summary, as plain library calls.

``flows/pipeline.py`` runs the same :func:`run_pipeline` with each stage wrapped as a Prefect task.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from harmony_mol.data.build import DatasetInfo, build_dataset
from harmony_mol.data.config import FeaturizeConfig
from harmony_mol.finetune.config import FinetuneConfig
from harmony_mol.finetune.train import FinetuneResult, finetune
from harmony_mol.pipeline.config import StageConfigs
from harmony_mol.pipeline.heldout import write_heldout
from harmony_mol.pipeline.lock import run_lock
from harmony_mol.pipeline.summary import PipelineRun, write_summary
from harmony_mol.ssl.config import PretrainConfig
from harmony_mol.ssl.launch import run_torchrun
from harmony_mol.ssl.pretrain import pretrain

logger = logging.getLogger(__name__)


def pretrain_locked(cfg: PretrainConfig, resume: bool = False, nproc: int = 1) -> Path:
    """Pretrain (or resume) holding the run directory's lock; returns the ``encoder.pt`` path.

    Args:
        cfg: The pretraining config.
        resume: Continue from ``<out_dir>/last.pt`` when present.
        nproc: Processes (GPUs); > 1 launches ``torchrun --standalone`` (``batch_size`` per process).

    Raises:
        RunLocked: another run uses ``cfg.out_dir``.
    """
    with run_lock(cfg.out_dir):
        return run_torchrun(cfg, nproc, resume) if nproc > 1 else pretrain(cfg, resume=resume)


def predict_to_file(bundle_path: Path, input_path: Path, output_path: Path) -> Path:
    """Predict ``input_path`` (SMILES file or structure folder) with a model bundle into the CSV ``output_path``."""
    from harmony_mol.predict.api import Predictor

    Predictor.load(bundle_path).predict_file(input_path, output_path, progress=False)
    return output_path


@dataclass(frozen=True)
class Stages:
    """The stage functions :func:`run_pipeline` calls (``flows/pipeline.py`` passes Prefect tasks of them)."""

    featurize: Callable[[FeaturizeConfig], DatasetInfo] = build_dataset
    pretrain: Callable[[PretrainConfig], Path] = pretrain_locked
    finetune: Callable[[FinetuneConfig], FinetuneResult] = finetune
    predict: Callable[[Path, Path, Path], Path] = predict_to_file


def _stage(name: str, t0: float) -> None:
    logger.info("[%5.1f s] %s", time.perf_counter() - t0, name)


def run_pipeline(st: StageConfigs, stages: Stages | None = None) -> PipelineRun:
    """Run one variant's linked stages (:func:`~harmony_mol.pipeline.config.stage_configs`) and write its summary.

    Args:
        st: The linked stage configs.
        stages: The stage functions (default: the library's own, no Prefect).
    """
    stages = stages or Stages()
    t0 = time.perf_counter()
    _stage(f"1/4 featurize {', '.join(st.featurize.inputs)} -> {st.featurize.output}", t0)
    dataset = stages.featurize(st.featurize)
    logger.info("%d graphs, %d rejected%s", dataset.n_graphs, dataset.n_rejected,
                " (cached)" if dataset.cache_hit else "")
    _stage(f"2/4 pretrain ({st.pretrain.epochs} epochs) -> {st.pretrain.out_dir}", t0)
    encoder = Path(stages.pretrain(st.pretrain))
    _stage(f"3/4 fine-tune -> {Path(st.finetune.out_dir) / st.finetune.name}", t0)
    finetuned = stages.finetune(st.finetune)
    predictions, predict_input = None, st.predict_input
    if st.predict_heldout:  # the fine-tuning test rows: never trained on, so the predictions mean something
        predict_input = write_heldout(finetuned.out_dir, list(st.featurize.inputs), st.kind, st.root)
    if predict_input is not None:
        _stage(f"4/4 predict {predict_input} -> {st.predictions}", t0)
        predictions = Path(stages.predict(finetuned.bundle_path, predict_input, st.predictions))
    run = PipelineRun(st.kind, dataset, encoder, finetuned, predictions, wall_s=time.perf_counter() - t0)
    run = replace(run, summary_path=write_summary(st.root, run))
    logger.info("done in %.1f s; summary %s", run.wall_s, run.summary_path)
    return run
