"""``BenchmarkConfig``: one graph-level benchmark suite run (``harmony benchmark <suite> --config ...``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from harmony_mol.config import load_config, parse_overrides

SUITES = ("moleculenet-hu", "regression", "crystals")
MODELS = ("harmony-pretrained", "harmony-scratch", "gin", "gin-pretrained", "cgcnn", "rf", "chemprop", "dummy")


@dataclass(frozen=True)
class PretrainStage:
    """Where the pretrained encoder of each featurizer preset comes from.

    Args:
        checkpoints: ``{preset: encoder checkpoint}`` used as is when the file exists (``gin-<preset>``: the
            ``gin-pretrained`` model's).
        config: ``PretrainConfig`` YAML run (resumable) for a preset whose checkpoint is missing;
            its ``dataset`` is replaced by ``corpus`` featurized with that preset.
        corpus: Unlabelled corpus (registry name or file; empty = the suite's: ``pretrain-corpus`` for
            molecules, ``matbench-perovskites`` for crystals); a larger one (ZINC15-2M) can be given here.
        overrides: ``key=value`` overrides of the pretraining config (e.g. ``epochs=1 max_graphs=512``).
        gin_config / gin_overrides: The same for ``gin-pretrained`` (the attribute-masking positive control,
            ``configs/pretrain/gin_attrmask.yaml``), on the same corpus.
    """

    checkpoints: dict[str, str] = field(default_factory=dict)
    config: str | None = None
    corpus: str = ""
    overrides: tuple[str, ...] = ()
    gin_config: str | None = None
    gin_overrides: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChempropStage:
    """chemprop v2 baseline (run through its CLI in a subprocess).

    Args:
        command: The chemprop command (``None``: ``chemprop`` on PATH, else the side install made by
            ``make chemprop`` in ``~/.cache/harmony-mol/chemprop-site``).
        datasets: Datasets it runs on (empty = all of the suite's molecule datasets).
        epochs: Training epochs (chemprop's default is 50).
        extra_args: More CLI arguments (e.g. ``["--message-hidden-dim", "300"]``).
    """

    command: tuple[str, ...] | None = None
    datasets: tuple[str, ...] = ()
    epochs: int = 50
    extra_args: tuple[str, ...] = ()


@dataclass(frozen=True)
class BenchmarkConfig:
    """One suite run. Every (dataset, preset, split, model, seed) cell is one row of ``results.csv``.

    Args:
        suite: ``moleculenet-hu``, ``regression`` or ``crystals``.
        mode: Label written into the report (``gpu``, ``cpu``, ``quick``) saying which budget made the numbers.
        datasets: Registry names (empty = the suite's default list).
        models: Any of ``harmony-pretrained``, ``harmony-scratch``, ``gin``, ``gin-pretrained``, ``cgcnn`` (crystals
            only), ``rf``,
            ``chemprop`` (molecules only), ``dummy`` (predicts the training mean: a protocol check, e.g.
            Matbench's "Dummy" row).
        presets: Featurizer presets (molecules: ``harmony`` and/or ``hu``; crystals: ``crystal``).
        splits: ``scaffold`` and/or ``random`` (molecules); crystal datasets use their fixed protocol.
        seeds: Fine-tuning seeds (random splits also vary with the seed; scaffold splits do not).
        folds: Matbench folds to run (0-4).
        max_rows: Subsample every part of every split to at most this many graphs in all (0 = all; quick).
        encoder: ``HarmonyEncoderConfig`` fields of the from-scratch encoder (match the pretrained one).
        gin: ``GINEncoderConfig`` fields of the GIN baseline.
        cgcnn: ``CGCNNEncoderConfig`` fields of the CGCNN baseline (read-out and head: CGCNN's, see ``cells``).
        optim: ``FinetuneOptimConfig`` overrides for every neural model.
        readout / head_hidden / head_layers / dropout: Fine-tuning head (all neural models).
        rf_trees: Random-forest trees.
        pretrain / chemprop: See the stage classes.
        out_dir: Report folder (``None``: ``data/results/<suite>``).
        work_dir: Scratch (datasets, bundles, split files); ``None``: ``runs/benchmark/<suite>``.
        data_dir: Shared data directory (``None``: ``$HARMONY_DATA_DIR`` or ``../shared/data``).
        device: ``cpu``, ``cuda`` or ``auto``.
        threads: torch threads per run and random-forest jobs (0 = default: all cores).
        resume: Keep rows already in ``results.csv`` with the same config hash and skip those cells.
    """

    suite: Literal["moleculenet-hu", "regression", "crystals"] = "regression"
    mode: str = "cpu"
    datasets: tuple[str, ...] = ()
    models: tuple[str, ...] = ("harmony-pretrained", "harmony-scratch", "gin", "gin-pretrained", "cgcnn", "rf",
                               "chemprop")
    presets: tuple[str, ...] = ()
    splits: tuple[str, ...] = ("scaffold",)
    seeds: tuple[int, ...] = (0, 1, 2)
    folds: tuple[int, ...] = (0, 1, 2, 3, 4)
    max_rows: int = 0
    encoder: dict[str, Any] = field(default_factory=lambda: {"hidden_dim": 64, "wgcn_hidden": 64, "mlp_hidden": 64,
                                                             "heads": 4, "hops": [1, 3]})
    gin: dict[str, Any] = field(default_factory=lambda: {"hidden_dim": 64, "num_layers": 5})
    cgcnn: dict[str, Any] = field(default_factory=lambda: {"hidden_dim": 64, "num_layers": 3})
    optim: dict[str, Any] = field(default_factory=lambda: {"epochs": 100, "patience": 20, "batch_size": 64})
    readout: str = "mean_max"
    head_hidden: int = 128
    head_layers: int = 2
    dropout: float = 0.1
    rf_trees: int = 200
    pretrain: PretrainStage = field(default_factory=PretrainStage)
    chemprop: ChempropStage = field(default_factory=ChempropStage)
    out_dir: Path | None = None
    work_dir: Path | None = None
    data_dir: Path | None = None
    device: str = "cpu"
    threads: int = 0
    resume: bool = True

    def __post_init__(self) -> None:
        if self.suite not in SUITES:
            raise ValueError(f"unknown suite {self.suite!r}; choose one of {SUITES}")
        if bad := [m for m in self.models if m not in MODELS]:
            raise ValueError(f"unknown model(s) {bad}; choose from {MODELS}")
        if not self.seeds:
            raise ValueError("seeds must list at least one seed")
        if bad := [s for s in self.splits if s not in ("scaffold", "random")]:
            raise ValueError(f"unknown split(s) {bad}; choose scaffold and/or random")
        if any(not 0 <= f < 5 for f in self.folds):
            raise ValueError("folds must be in 0..4 (Matbench's 5 folds)")

    @property
    def report_dir(self) -> Path:
        """Where ``report.md`` / ``results.csv`` / plots go."""
        return Path(self.out_dir) if self.out_dir is not None else Path("data/results") / self.suite

    @property
    def scratch_dir(self) -> Path:
        """Where datasets, split files, bundles and chemprop runs go (gitignored)."""
        return Path(self.work_dir) if self.work_dir is not None else Path("runs/benchmark") / self.suite


def quick_overrides(suite: str) -> dict[str, Any]:
    """``--quick``: every model on small subsets for a few epochs (CI keeps the suite alive with it).

    The pretraining corpus is the bundled ``data/molecules/solubility.csv`` (molecules) or Perov-5
    (crystals) and the report goes to ``runs/benchmark/<suite>-quick`` so it never replaces real results.
    """
    crystal = suite == "crystals"
    datasets = {"crystals": ["perov5"], "moleculenet-hu": ["bbbp", "clintox"]}.get(suite, ["esol", "freesolv"])
    return {
        "mode": "quick",
        "datasets": datasets,
        "seeds": [0, 1],
        "folds": [0],
        "max_rows": 160,
        "rf_trees": 20,
        "optim.epochs": 2,
        "optim.patience": 0,
        "encoder": {"hidden_dim": 32, "wgcn_hidden": 32, "mlp_hidden": 32, "heads": 2, "hops": [1, 2]},
        "gin": {"hidden_dim": 32, "num_layers": 2},
        "cgcnn": {"hidden_dim": 32, "num_layers": 3},
        "head_hidden": 32,
        "pretrain.config": "configs/pretrain/cpu_small.yaml",
        # Perov-5's 1,024 training structures share none with its val / test (data/results/crystals/overlap.md)
        "pretrain.corpus": "perov5-train-subset" if crystal else "data/molecules/solubility.csv",
        "pretrain.gin_config": "configs/pretrain/gin_attrmask.yaml",
        "pretrain.gin_overrides": ["epochs=1", "max_graphs=256", "batch_size=64", "checkpoint_every=1000",
                                   "encoder.hidden_dim=32", "encoder.num_layers=2", "progress=false"],
        "pretrain.overrides": ["epochs=1", "max_graphs=256", "batch_size=64", "checkpoint_every=1000",
                               "encoder.hidden_dim=32", "encoder.wgcn_hidden=32", "encoder.mlp_hidden=32",
                               "encoder.heads=2", "encoder.hops=[1, 2]", "progress=false"],
        "chemprop.epochs": 3,  # chemprop needs more epochs than its 2 warm-up epochs
        "out_dir": f"runs/benchmark/{suite}-quick/report",
        "work_dir": f"runs/benchmark/{suite}-quick",
        "resume": False,
    }


def benchmark_config(suite: str, path: str | Path | None = None, overrides: list[str] | None = None,
                     quick: bool = False, datasets: list[str] | None = None,
                     out_dir: str | Path | None = None) -> BenchmarkConfig:
    """The run config of ``suite`` as the CLI and the flow build it.

    Layers, last wins: the YAML file, the ``--quick`` preset, ``key=value`` overrides, then explicit
    datasets / report folder.

    Raises:
        ConfigError: unknown keys, bad values, an unreadable file.
    """
    over: dict[str, Any] = quick_overrides(suite) if quick else {}
    over["suite"] = suite
    over.update(parse_overrides(overrides))
    if datasets:
        over["datasets"] = list(datasets)
    if out_dir is not None:
        over["out_dir"] = str(out_dir)
    return load_config(BenchmarkConfig, path, over)
