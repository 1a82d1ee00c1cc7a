"""Fixtures of the flow tests.

ONE Prefect test harness per session (used explicitly, never autouse) and tiny real inputs written to tmp_path.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Offline defaults before anything imports prefect (the harness also gives its own temp database).
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

SMILES = [
    "CCO", "CCN", "CCC", "CCCl", "CC(=O)O", "c1ccccc1", "c1ccccc1O", "c1ccccc1N", "c1ccccc1C", "c1ccccc1Cl",
    "CC(C)O", "CC(C)N", "CCCCO", "CCCCN", "OCCO", "NCCN", "C1CCCCC1", "C1CCCCC1O", "C1CCNCC1", "C1CCOCC1",
    "c1ccncc1", "c1ccoc1", "c1ccsc1", "c1cc[nH]c1", "CC(=O)N", "CC(=O)OC", "COC", "CCOCC", "CC#N", "C=CC",
    "CC(=O)c1ccccc1", "Oc1ccc(O)cc1", "Nc1ccc(N)cc1", "Clc1ccc(Cl)cc1", "CCc1ccccc1", "OC(=O)c1ccccc1",
    "CC(C)(C)O", "CCCCCC", "CCCCCCO", "c1ccc2ccccc2c1",
]


def write_tiny_csv(path: Path, bad_rows: bool = True) -> Path:
    """40 valid SMILES with a deterministic target (+ two rejected rows: a pentavalent carbon, an unclosed ring)."""
    rows = [(s, round(0.1 * len(s) - 0.5 * s.count("O"), 3)) for s in SMILES]
    if bad_rows:
        rows.insert(5, ("C(C)(C)(C)(C)C", 1.0))
        rows.insert(12, ("C1CCC", 2.0))
    path.write_text("smiles,target\n" + "".join(f"{s},{y}\n" for s, y in rows))
    return path


@pytest.fixture()
def tiny_csv(tmp_path: Path) -> Path:
    return write_tiny_csv(tmp_path / "tiny.csv")


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory):
    """A temporary Prefect database + ephemeral server for the whole session (~15 s to start).

    Persisted task results (the featurize cache) go to a session temp dir, not ``$PREFECT_HOME``.
    """
    from prefect.settings import PREFECT_LOCAL_STORAGE_PATH, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    storage = tmp_path_factory.mktemp("prefect-results")
    with prefect_test_harness(server_startup_timeout=120), temporary_settings({PREFECT_LOCAL_STORAGE_PATH: storage}):
        yield


def make_run(out_dir: Path, metrics: dict, predictions: Path | None = None, wall_s: float | None = None,
             n_rejected: int = 0):
    """A :class:`~harmony_mol.pipeline.summary.PipelineRun` of made-up stage results under ``out_dir``."""
    from harmony_mol.data.build import DatasetInfo
    from harmony_mol.finetune.train import FinetuneResult
    from harmony_mol.pipeline.summary import PipelineRun

    ds = DatasetInfo(path=Path("/d"), n_graphs=40, n_rejected=n_rejected, target_names=["y"], cache_hit=False,
                     key="k", seconds=0.1, rejected_path=Path("/d/rejected.csv"))
    ft = FinetuneResult(bundle_path=out_dir / "model.pt", metrics=metrics, seeds=(0,), wall_s=1.0, out_dir=out_dir)
    return PipelineRun("molecule", ds, out_dir / "pretrain" / "encoder.pt", ft, predictions, wall_s)
