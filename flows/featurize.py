"""``featurize_flow``: SMILES / crystal files -> graph datasets, one mapped task per dataset.

Each task calls :func:`harmony_mol.data.build.build_dataset`. Its Prefect cache key is the dataset cache key
plus the output directory, and results persist under ``$PREFECT_HOME``: a second run on unchanged input is a
Prefect cache hit across processes (``prefect_cached: true``), a deleted or stale output is rebuilt, and
``force: true`` disables the cache. ``--dask N`` / ``--dask-address`` spread the datasets over a Dask cluster.

    python -m flows.featurize --config configs/featurize/moleculenet_hu.yaml [--dask 2] [key=value ...]
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any, NamedTuple

from prefect import flow, task
from prefect.futures import PrefectFuture

from flows.common import cli_logging, publish_markdown, publish_table, retry_on_io
from harmony_mol.config import load_config
from harmony_mol.data.build import DatasetInfo, build_dataset, cache_key
from harmony_mol.data.config import FeaturizeConfig
from harmony_mol.utils.io import sha256_text

logger = logging.getLogger(__name__)


class Featurized(NamedTuple):
    """A featurize task's dataset and whether Prefect served it from its cross-run cache."""

    info: DatasetInfo
    prefect_cached: bool


def _manifest_key(out: Path) -> str | None:
    try:
        return json.loads((out / "manifest.json").read_text()).get("cache_key")
    except (OSError, ValueError):
        return None


def featurize_cache_key(context: Any, parameters: dict[str, Any]) -> str | None:
    """Cross-run cache key: :func:`~harmony_mol.data.build.cache_key` + output location (None = no caching)."""
    cfg: FeaturizeConfig = parameters["cfg"]
    if cfg.force or cfg.output is None:
        return None
    key, _, _ = cache_key(cfg)
    blob = {"dataset_key": key, "output": str(Path(cfg.output).resolve())}
    return "featurize-" + sha256_text(json.dumps(blob, sort_keys=True))[:32]


featurize_task = task(name="featurize", cache_key_fn=featurize_cache_key, persist_result=True, retries=2,
                      retry_delay_seconds=5, retry_condition_fn=retry_on_io)(build_dataset)


def checked_result(fut: PrefectFuture[DatasetInfo], cfg: FeaturizeConfig) -> Featurized:
    """The task's dataset; a Prefect cache hit whose dataset is gone or replaced is rebuilt."""
    info = fut.result()
    state = fut.state
    if not (state.is_completed() and state.name == "Cached"):
        return Featurized(info, False)
    if _manifest_key(Path(info.path)) == info.key:
        logger.info("%s: Prefect cache hit", info.path)
        return Featurized(info, True)
    logger.info("cached result points to a missing or replaced dataset %s: rebuilding", info.path)
    return Featurized(featurize_task.with_options(refresh_cache=True)(cfg), False)


def publish_rejected(info: DatasetInfo, key: str, limit: int = 200) -> None:
    """Publish the first ``limit`` rejected rows of a dataset as table artifact ``rejected-<key>``.

    A dataset without rejected rows gets one row saying so, so the table is published on every run.
    """
    rows = [{"row": "", "reason": "no rejected rows"}]
    if info.rejected_path and Path(info.rejected_path).is_file():
        with open(info.rejected_path, newline="") as fh:
            rows = [dict(row) for row in itertools.islice(csv.DictReader(fh), limit)] or rows
    publish_table(rows, f"rejected-{key}", f"First {len(rows)} of {info.n_rejected} rejected rows of {info.path}")


@flow(name="featurize", log_prints=False)
def featurize_flow(configs: list[FeaturizeConfig]) -> list[Featurized]:
    """Featurize every config (one per dataset) as a mapped task; one :class:`Featurized` per config, in order.

    Publishes a counts table and, per dataset, a rejected-rows table (row, id, input, reason).
    """
    cli_logging()
    results = [checked_result(fut, cfg) for cfg, fut in zip(configs, featurize_task.map(configs))]
    for info, _ in results:
        publish_rejected(info, Path(info.path).name)
    publish_table([{"label": Path(i.path).name, "n_graphs": i.n_graphs, "n_rejected": i.n_rejected,
                    "n_duplicates": i.n_duplicates, "cache_hit": i.cache_hit, "prefect_cached": cached,
                    "seconds": round(i.seconds, 3), "path": str(i.path)} for i, cached in results],
                  "featurize-counts", "Graphs and rejected rows per dataset")
    publish_markdown("\n".join(["# featurize", ""] + [
        f"- `{i.path}`: {i.n_graphs} graphs, {i.n_rejected} rejected (`{i.rejected_path}`)"
        f"{' (cached)' if cached or i.cache_hit else ''}" for i, cached in results]) + "\n",
        "featurize-summary")
    return results


def dask_runner(n_workers: int = 2, address: str | None = None, processes: bool = True) -> Any:
    """A ``prefect_dask.DaskTaskRunner``: an existing cluster (``address``) or a local one."""
    from prefect_dask import DaskTaskRunner

    if address:
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(cluster_kwargs={"n_workers": n_workers, "threads_per_worker": 1,
                                          "processes": processes, "dashboard_address": None})


def main(argv: list[str] | None = None) -> list[Featurized]:
    """``python -m flows.featurize``."""
    ap = argparse.ArgumentParser(prog="python -m flows.featurize", description=__doc__.split("\n")[0])
    ap.add_argument("--config", action="append", required=True, help="FeaturizeConfig YAML (repeatable)")
    ap.add_argument("--dask", type=int, default=0, help="local Dask cluster with N worker processes")
    ap.add_argument("--dask-address", default=None, help="scheduler address of an existing Dask cluster")
    ap.add_argument("overrides", nargs="*", help="key=value overrides applied to every config")
    args = ap.parse_args(argv)
    configs = [load_config(FeaturizeConfig, p, args.overrides) for p in args.config]
    fl = featurize_flow
    if args.dask or args.dask_address:
        fl = featurize_flow.with_options(task_runner=dask_runner(max(args.dask, 1), args.dask_address))
    return fl(configs)


if __name__ == "__main__":
    cli_logging()
    for _info, _cached in main():
        print(json.dumps({**asdict(_info), "prefect_cached": _cached}, default=str))
