"""``featurize_flow``: SMILES / crystal files -> graph datasets, one mapped task per dataset.

Each task calls :func:`harmony_mol.data.build.build_dataset` and returns only paths, hashes and
counts. Its Prefect cache key is the dataset cache key (sha256 of every input file + featurizer spec
+ reader options + versions) plus the output directory and whether that directory still holds that
dataset, and results are persisted under ``$PREFECT_HOME``: a second run on unchanged input is a
Prefect cache hit across processes (``prefect_cached: true`` in the result), and a deleted or stale
output is rebuilt. ``force: true`` disables the cache.

Scale-out: pass ``task_runner=dask_runner(...)`` (``--dask N`` / ``--dask-address``) to spread the
datasets (e.g. shards of a huge SMILES collection, one FeaturizeConfig each) over a Dask cluster.

    python -m flows.featurize --config configs/featurize/moleculenet_hu.yaml [--dask 2] [key=value ...]
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.futures import PrefectFuture

from flows.common import cli_logging, publish_markdown, publish_table, rejected_rows, retry_on_io
from harmony_mol.config import config_from_dict, config_to_dict, load_config
from harmony_mol.data.build import build_dataset, cache_key
from harmony_mol.data.config import FeaturizeConfig
from harmony_mol.utils.io import sha256_text

logger = logging.getLogger(__name__)


def _manifest_key(out: Path) -> str | None:
    try:
        return json.loads((out / "manifest.json").read_text()).get("cache_key")
    except (OSError, ValueError):
        return None


def featurize_cache_key(context: Any, parameters: dict[str, Any]) -> str | None:
    """Cross-run cache key: input content + featurizer config + output location (None = no caching)."""
    cfg = config_from_dict(FeaturizeConfig, parameters["config"], where="featurize_task")
    if cfg.force or cfg.output is None:
        return None
    key, _, _ = cache_key(cfg)
    blob = {"dataset_key": key, "output": str(Path(cfg.output).resolve())}
    return "featurize-" + sha256_text(json.dumps(blob, sort_keys=True))[:32]


@task(name="featurize", cache_key_fn=featurize_cache_key, persist_result=True, retries=2,
      retry_delay_seconds=5, retry_condition_fn=retry_on_io, task_run_name="featurize-{label}")
def featurize_task(config: dict[str, Any], label: str = "dataset") -> dict[str, Any]:
    """Build one dataset; return ``{path, key, n_graphs, n_rejected, rejected_path, target_names, ...}``."""
    info = build_dataset(config_from_dict(FeaturizeConfig, config, where="featurize_task"))
    return {"label": label, "path": str(info.path), "key": info.key, "n_graphs": info.n_graphs,
            "n_rejected": info.n_rejected, "n_duplicates": info.n_duplicates,
            "rejected_path": str(info.rejected_path) if info.rejected_path else None,
            "target_names": list(info.target_names), "cache_hit": info.cache_hit, "seconds": round(info.seconds, 3)}


def _label(cfg: dict[str, Any]) -> str:
    return Path(str(cfg.get("output") or "dataset")).name


@flow(name="featurize", log_prints=False)
def featurize_flow(configs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Featurize every config (a plain dict of :class:`FeaturizeConfig` fields) as a mapped task.

    Publishes a counts table and, per dataset, a rejected-rows table (row, id, input, reason).
    """
    cli_logging()
    futures = featurize_task.map(configs, label=[_label(c) for c in configs])
    results = []
    for cfg, fut in zip(configs, futures):
        res = checked_result(fut, cfg)
        results.append(res)
        rows = rejected_rows(res["rejected_path"])
        publish_table(rows, f"rejected-{res['label']}",
                      f"First {len(rows)} of {res['n_rejected']} rejected rows of {res['path']}")
    publish_table([{k: r[k] for k in ("label", "n_graphs", "n_rejected", "n_duplicates", "cache_hit",
                                      "prefect_cached", "seconds", "path")} for r in results],
                  "featurize-counts", "Graphs and rejected rows per dataset")
    publish_markdown("\n".join(["# featurize", ""] + [
        f"- `{r['path']}`: {r['n_graphs']} graphs, {r['n_rejected']} rejected (`{r['rejected_path']}`)"
        f"{' (cached)' if r['prefect_cached'] or r['cache_hit'] else ''}" for r in results]) + "\n",
        "featurize-summary")
    return results


def _was_cached(fut: PrefectFuture[Any]) -> bool:
    state = fut.state
    return bool(state.is_completed() and state.name == "Cached")


def checked_result(fut: PrefectFuture[Any], config: dict[str, Any]) -> dict[str, Any]:
    """The task's result plus ``prefect_cached``; a cache hit whose dataset is gone is rebuilt."""
    res = dict(fut.result())
    res["prefect_cached"] = _was_cached(fut)
    if res["prefect_cached"] and _manifest_key(Path(res["path"])) != res["key"]:
        logger.info("cached result points to a missing or replaced dataset %s: rebuilding", res["path"])
        res = dict(featurize_task.with_options(refresh_cache=True)(config, label=res["label"]))
        res["prefect_cached"] = False
    return res


def dask_runner(n_workers: int = 2, address: str | None = None, processes: bool = True) -> Any:
    """A ``prefect_dask.DaskTaskRunner``: an existing cluster (``address``) or a local one."""
    from prefect_dask import DaskTaskRunner

    if address:
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(cluster_kwargs={"n_workers": n_workers, "threads_per_worker": 1,
                                          "processes": processes, "dashboard_address": None})


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """``python -m flows.featurize``."""
    ap = argparse.ArgumentParser(prog="python -m flows.featurize", description=__doc__.split("\n")[0])
    ap.add_argument("--config", action="append", required=True, help="FeaturizeConfig YAML (repeatable)")
    ap.add_argument("--dask", type=int, default=0, help="local Dask cluster with N worker processes")
    ap.add_argument("--dask-address", default=None, help="scheduler address of an existing Dask cluster")
    ap.add_argument("overrides", nargs="*", help="key=value overrides applied to every config")
    args = ap.parse_args(argv)
    configs = [config_to_dict(load_config(FeaturizeConfig, p, args.overrides)) for p in args.config]
    fl = featurize_flow
    if args.dask or args.dask_address:
        fl = featurize_flow.with_options(task_runner=dask_runner(max(args.dask, 1), args.dask_address))
    results = fl(configs)
    for r in results:
        logger.info("%s: %d graphs, %d rejected", r["path"], r["n_graphs"], r["n_rejected"])
    return results


if __name__ == "__main__":
    cli_logging()
    for _r in main():
        print(json.dumps(_r))  # noqa: T201 - command output
