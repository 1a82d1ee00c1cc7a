"""``FeaturizeConfig``: everything ``harmony featurize`` / :func:`build_dataset` needs (YAML-loadable)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

#: File name of a dataset directory's manifest.
MANIFEST = "manifest.json"
#: Version of the on-disk shard layout (part of every cache key).
STORE_FORMAT_VERSION = 1


@dataclass(frozen=True)
class FeaturizeConfig:
    """Options of one featurization run.

    Args:
        inputs: Files, folders, dataset names or group names (see :mod:`harmony_mol.data.registry`),
            read one after the other; row ids run on across inputs.
        output: Dataset directory to create (replaced atomically when its cache key changes).
        kind: ``molecule`` or ``crystal``; detected from the inputs when ``None``.
        preset: Featurizer preset (``harmony`` or ``hu`` for molecules, ``crystal`` for crystals).
        smiles_column: SMILES column of molecule CSVs (overrides the registry; ``None`` = detect).
        cif_column: CIF-string column of crystal CSVs.
        id_column: Identifier column written to ``index.csv.gz``.
        target_columns: Label columns; ``None`` = the registry's / reader's default, ``[]`` = no labels.
        dedupe: Drop exact repeats of the same input string across all inputs (kept: first one).
        max_atoms: Reject items with more atoms (default 200 molecules, 500 crystals).
        cutoff: Crystal neighbour cutoff in Angstrom.
        max_neighbors: Crystal: keep at most this many nearest neighbours per atom.
        n_gaussians: Crystal: Gaussian distance-expansion size.
        max_volume_per_atom: Crystal: reject cells with more volume per atom (``None`` = featurizer default).
        data_dir: Shared data directory for dataset names (``None`` = ``$HARMONY_DATA_DIR`` or ``../shared/data``).
        workers: Featurizing processes (1 = in this process).
        chunk_size: Items per task sent to a worker.
        shard_size: Graphs per shard file.
        shard_max_mb: Also start a new shard once the current one holds this many MB of arrays
            (bounds memory for edge-heavy crystal graphs).
        max_reject_fraction: Fail when more than this fraction of rows is rejected.
        progress: Progress bar on/off (``None``: on when stderr is a terminal).
        force: Rebuild even when the cache key matches.
    """

    inputs: tuple[str, ...] = ()
    output: Path | None = None
    kind: Literal["molecule", "crystal"] | None = None
    preset: str | None = None
    smiles_column: str | None = None
    cif_column: str | None = None
    id_column: str | None = None
    target_columns: tuple[str, ...] | None = None
    dedupe: bool = False
    max_atoms: int | None = None
    cutoff: float = 8.0
    max_neighbors: int = 12
    n_gaussians: int = 40
    max_volume_per_atom: float | None = None
    data_dir: Path | None = None
    workers: int = 1
    chunk_size: int = 1000
    shard_size: int = 25_000
    shard_max_mb: int = 128
    max_reject_fraction: float = 0.5
    progress: bool | None = None
    force: bool = False

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")
        if self.chunk_size < 1 or self.shard_size < 1 or self.shard_max_mb < 1:
            raise ValueError("chunk_size, shard_size and shard_max_mb must be >= 1")
        if not 0.0 <= self.max_reject_fraction <= 1.0:
            raise ValueError(f"max_reject_fraction must be in [0, 1], got {self.max_reject_fraction}")
        if self.max_atoms is not None and self.max_atoms < 1:
            raise ValueError(f"max_atoms must be >= 1, got {self.max_atoms}")
