"""``pipeline_flow``: :func:`harmony_mol.pipeline.run.run_pipeline` with its stages as Prefect tasks.

    harmony quickstart [--config configs/quickstart.yaml] [--crystal] [--out runs/quickstart]

Runs in Prefect's ephemeral mode unless ``PREFECT_API_URL`` is set. The featurize task is cached across runs,
the others retry on transient I/O errors; the rejected rows, metrics and summary (with plots) become artifacts.
"""

from __future__ import annotations

import sys
from pathlib import Path

from prefect import flow, task

from flows.common import cli_logging, publish_markdown, publish_table, retry_on_io
from flows.featurize import checked_result, featurize_task, publish_rejected
from flows.finetune import finetune_task
from flows.pretrain import pretrain_task
from harmony_mol.config import load_config
from harmony_mol.data.build import DatasetInfo
from harmony_mol.data.config import FeaturizeConfig
from harmony_mol.pipeline.config import PipelineConfig, stage_configs
from harmony_mol.pipeline.run import Stages, predict_to_file, run_pipeline
from harmony_mol.pipeline.summary import PipelineRun, metrics_rows, summary_markdown

DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "quickstart.yaml"

predict_task = task(name="predict", retries=1, retry_delay_seconds=5, retry_condition_fn=retry_on_io)(predict_to_file)


def _featurize(cfg: FeaturizeConfig) -> DatasetInfo:
    info = checked_result(featurize_task.submit(cfg), cfg).info
    publish_rejected(info, str(cfg.kind))
    return info


@flow(name="pipeline")
def pipeline_flow(config_path: str | None = None, kind: str = "molecule", out_dir: str | None = None,
                  overrides: list[str] | None = None) -> PipelineRun:
    """Run one pipeline variant end to end.

    Args:
        config_path: Pipeline YAML (default ``configs/quickstart.yaml``).
        kind: ``molecule`` or ``crystal``.
        out_dir: Overrides the config's ``out_dir``.
        overrides: ``a.b=value`` overrides of the pipeline YAML (e.g. ``molecule.pretrain.epochs=1``).
    """
    cli_logging()
    cfg = load_config(PipelineConfig, config_path or DEFAULT_CONFIG, overrides)
    st = stage_configs(cfg, kind, out_dir=Path(out_dir) if out_dir else None)  # type: ignore[arg-type]
    run = run_pipeline(st, Stages(featurize=_featurize, pretrain=pretrain_task, finetune=finetune_task,
                                  predict=predict_task))
    publish_table(metrics_rows(run.finetuned.metrics), f"metrics-{kind}", "Fine-tuned model metrics")
    publish_markdown(summary_markdown(run, embed_plots=True), f"pipeline-{kind}", "Pipeline summary with its plots")
    return run


def quickstart(config_path: str | None = None, kind: str = "molecule", out_dir: str | None = None,
               overrides: list[str] | None = None) -> PipelineRun:
    """Run :func:`pipeline_flow` in this process and write its summary to stdout (``harmony quickstart``)."""
    run = pipeline_flow(config_path=config_path, kind=kind, out_dir=out_dir, overrides=overrides)
    sys.stdout.write("\n" + Path(run.summary_path).read_text() + "\n")  # type: ignore[arg-type]
    return run
