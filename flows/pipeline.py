"""``pipeline_flow``: featurize -> pretrain -> fine-tune -> predict -> report (the quickstart).

    python -m flows.pipeline [--config configs/quickstart.yaml] [--crystal] [--out runs/quickstart]

Runs in Prefect's ephemeral mode by default (no server; ``PREFECT_HOME`` defaults to
``~/.cache/harmony-mol/prefect``), or against a server when ``PREFECT_API_URL`` is set.
Stage configs come from :func:`harmony_mol.pipeline.stage_configs`; each stage is one task calling
one library function, and only paths and small dicts cross task boundaries.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any

from prefect import flow, task

from flows.common import cli_logging, publish_markdown, publish_table, rejected_rows, retry_on_io
from flows.featurize import checked_result, featurize_task
from flows.finetune import finetune_task
from flows.pretrain import pretrain_task
from harmony_mol.config import config_to_dict
from harmony_mol.pipeline import (
    PipelineConfig,
    load_pipeline,
    metrics_rows,
    stage_configs,
    summary_markdown,
    write_heldout,
    write_summary,
)

logger = logging.getLogger(__name__)

DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "quickstart.yaml"


@task(name="predict", retries=1, retry_delay_seconds=5, retry_condition_fn=retry_on_io)
def predict_task(bundle_path: str, input_path: str, output_path: str) -> str:
    """Predict ``input_path`` with the bundle into ``output_path`` (CSV, one row per input)."""
    from harmony_mol.predict.api import Predictor

    Predictor.load(bundle_path).predict_file(input_path, output_path, progress=False)
    return output_path


def _stage(name: str, t0: float) -> None:
    logger.info("[%5.1f s] %s", time.perf_counter() - t0, name)


@flow(name="pipeline")
def pipeline_flow(config_path: str | None = None, kind: str = "molecule", out_dir: str | None = None,
                  overrides: list[str] | None = None) -> dict[str, Any]:
    """Run one pipeline variant end to end; return the summary dict (paths and test metrics).

    Args:
        config_path: Pipeline YAML (default ``configs/quickstart.yaml``).
        kind: ``molecule`` or ``crystal``.
        out_dir: Overrides the config's ``out_dir``.
        overrides: ``a.b=value`` overrides of the pipeline YAML (e.g. ``molecule.pretrain.epochs=1``).
    """
    cli_logging()
    t0 = time.perf_counter()
    cfg: PipelineConfig = load_pipeline(config_path or DEFAULT_CONFIG, overrides)
    st = stage_configs(cfg, kind, out_dir=Path(out_dir) if out_dir else None)  # type: ignore[arg-type]
    _stage(f"1/4 featurize {', '.join(st.featurize.inputs)} -> {st.featurize.output}", t0)
    fz = config_to_dict(st.featurize)
    featurized = checked_result(featurize_task.submit(fz, label=f"{kind}-dataset"), fz)
    logger.info("%d graphs, %d rejected%s", featurized["n_graphs"], featurized["n_rejected"],
                " (cached)" if featurized["prefect_cached"] or featurized["cache_hit"] else "")
    publish_table(rejected_rows(featurized["rejected_path"]), f"rejected-{kind}", "Rejected input rows")
    _stage(f"2/4 pretrain ({st.pretrain.epochs} epochs) -> {st.pretrain.out_dir}", t0)
    encoder = pretrain_task(config_to_dict(st.pretrain), resume=False)
    _stage(f"3/4 fine-tune -> {Path(st.finetune.out_dir) / st.finetune.name}", t0)
    finetuned = finetune_task(config_to_dict(st.finetune), label=st.finetune.name)
    predictions = None
    predict_input = st.predict_input
    if st.predict_heldout:  # the fine-tuning test rows: never trained on, so the predictions mean something
        predict_input = write_heldout(finetuned["out_dir"], list(st.featurize.inputs), kind, st.root)
    if predict_input is not None:
        _stage(f"4/4 predict {predict_input} -> {st.predictions}", t0)
        predictions = predict_task(finetuned["bundle_path"], str(predict_input), str(st.predictions))
    wall = time.perf_counter() - t0
    md = summary_markdown(kind, featurized, encoder, finetuned, predictions, wall)
    payload = {"kind": kind, "dataset": featurized, "encoder": encoder, "bundle": finetuned["bundle_path"],
               "plots": str(Path(finetuned["out_dir"]) / "plots"), "predictions": predictions,
               "metrics": finetuned["metrics"].get("summary", {}), "wall_s": round(wall, 1)}
    payload["summary_path"] = str(write_summary(st.root, md, payload))
    publish_table(metrics_rows(finetuned["metrics"]), f"metrics-{kind}", "Fine-tuned model metrics")
    publish_markdown(summary_markdown(kind, featurized, encoder, finetuned, predictions, wall, embed_plots=True),
                     f"pipeline-{kind}", "Pipeline summary with its plots")
    logger.info("done in %.1f s; summary %s", wall, payload["summary_path"])
    return payload


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """``python -m flows.pipeline``: run the quickstart and print the summary."""
    ap = argparse.ArgumentParser(prog="python -m flows.pipeline", description=__doc__.split("\n")[0])
    ap.add_argument("--config", default=None, help=f"pipeline YAML (default {DEFAULT_CONFIG.name})")
    ap.add_argument("--crystal", action="store_true", help="run the crystal variant")
    ap.add_argument("--out", default=None, help="output root (default: the config's out_dir)")
    ap.add_argument("overrides", nargs="*", help="a.b=value overrides of the pipeline YAML")
    a = ap.parse_args(argv)
    payload = pipeline_flow(config_path=a.config, kind="crystal" if a.crystal else "molecule", out_dir=a.out,
                            overrides=a.overrides)
    sys.stdout.write("\n" + Path(payload["summary_path"]).read_text() + "\n")
    return payload


if __name__ == "__main__":
    from flows.common import exit_on_sigterm

    exit_on_sigterm()
    cli_logging()
    main()
