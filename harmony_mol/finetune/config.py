"""``FinetuneConfig``: everything ``harmony finetune`` / :func:`~harmony_mol.finetune.train.finetune` needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from harmony_mol.nn.encoder_config import EncoderConfig, HarmonyEncoderConfig


@dataclass(frozen=True)
class FinetuneDataConfig:
    """Where the labelled graphs come from.

    Args:
        input: A featurized dataset directory (has ``manifest.json``), or a raw input
            (CSV / .smi / SDF of molecules, CIF folder / CSV with a CIF column / id_prop.csv set of
            crystals, or a registry dataset name) that is featurized first with the pretrained
            checkpoint's featurizer spec (or ``preset`` when training from scratch).
        kind: ``molecule`` / ``crystal``; ``None`` = detect.
        smiles_column / cif_column: SMILES column (``None`` = detect) / CIF column of a raw CSV.
        target_columns: Label columns (``None`` = all of the dataset's targets).
        preset: Featurizer preset used for raw input when there is no pretrained checkpoint.
        cache_dir: Where raw input is featurized to (reused when the cache key matches).
        workers: Featurizing processes for raw input.
        dedupe: Drop exact repeats of an input (e.g. FreeSolv's duplicated compound) when featurizing.
    """

    input: str = ""
    kind: Literal["molecule", "crystal"] | None = None
    smiles_column: str | None = None
    cif_column: str | None = None
    target_columns: tuple[str, ...] | None = None
    preset: str | None = None
    cache_dir: Path = Path("runs/datasets")
    workers: int = 1
    dedupe: bool = False


@dataclass(frozen=True)
class FinetuneSplitConfig:
    """How the data are split into train / valid / test.

    Args:
        method: ``scaffold`` (molecules; Bemis–Murcko, largest scaffold sets to train), ``random``,
            ``kfold`` (``fold`` is the test fold, the next fold validation) or ``file`` (a saved split).
        fractions: Train / valid / test fractions (``scaffold`` / ``random``).
        n_folds / fold: Number of folds and the test fold for ``kfold``.
        file: Saved split file for ``method: file``.
        vary_with_seed / split_seed: Seed ``random`` / ``kfold`` splits with the replicate seed, or ``split_seed``.
    """

    method: Literal["scaffold", "random", "kfold", "file"] = "scaffold"
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
    n_folds: int = 5
    fold: int = 0
    file: Path | None = None
    vary_with_seed: bool = True
    split_seed: int = 0


@dataclass(frozen=True)
class FinetuneModelConfig:
    """Encoder source, read-out and head.

    Args:
        pretrained: Encoder checkpoint (``harmony pretrain`` output); ``None`` = from scratch.
        which: ``student`` (as the paper evaluates) or ``teacher`` (the EMA copy).
        encoder: The from-scratch encoder (ignored with ``pretrained``): HarmonyGNN fields, or with
            ``arch: gin`` the GINE baseline's (``GINEncoderConfig``: hidden_dim, num_layers, ...), with
            ``arch: cgcnn`` the CGCNN baseline's (``CGCNNEncoderConfig``).
        readout: Graph pooling: mean, sum, max, mean_max, mean_sum, attention, set2set.
        head_hidden / head_layers / dropout: Hidden width, linear layers (1 = linear probe) and dropout of the MLP head.
        head_activation: Activation between the head's layers (``softplus``: CGCNN's head).
    """

    pretrained: Path | None = None
    which: Literal["student", "teacher"] = "student"
    encoder: EncoderConfig = field(default_factory=HarmonyEncoderConfig)
    readout: str = "mean_max"
    head_hidden: int = 256
    head_layers: int = 2
    dropout: float = 0.1
    head_activation: Literal["relu", "gelu", "silu", "softplus"] = "relu"


@dataclass(frozen=True)
class FinetuneOptimConfig:
    """Optimiser, schedule and early stopping.

    Args:
        lr / weight_decay: AdamW learning rate of the head (and read-out) and weight decay.
        encoder_lr_mult: Encoder learning rate = ``lr * encoder_lr_mult``; ``None`` (default): 0.1 for a pretrained
            encoder (keep what it learned), 1.0 for a randomly initialised one (it must learn at the full rate).
        freeze_encoder: Keep the encoder frozen for the whole run (linear-probe style).
        unfreeze_after: Freeze the encoder for this many epochs first, then train it (0 = never frozen).
        epochs / batch_size: Maximum epochs; training graphs per step.
        eval_batch_size: Graphs per evaluation batch (also used when reloading a bundle).
        patience: Early stopping: epochs without validation improvement (0 = off).
        grad_clip: Max gradient norm (0 = off).
        loss: Regression loss on standardised targets: mse | l1 | huber.
        pos_weight: Classification: weight positives by n_neg / n_pos per task (train split).
        metric: Validation metric for model selection (``auto``: roc_auc / rmse).
    """

    lr: float = 1e-3
    encoder_lr_mult: float | None = None
    freeze_encoder: bool = False
    unfreeze_after: int = 0
    weight_decay: float = 1e-5
    epochs: int = 50
    batch_size: int = 64
    eval_batch_size: int = 256
    patience: int = 15
    grad_clip: float = 5.0
    loss: Literal["mse", "l1", "huber"] = "mse"
    pos_weight: bool = False
    metric: str = "auto"


@dataclass(frozen=True)
class FinetuneConfig:
    """One fine-tuning run (several replicates when ``seeds`` has several entries).

    Args:
        name: Run name (sub-folder of ``out_dir``).
        data / split / model / optim: See the section classes.
        task_type: ``auto`` (0/1 labels → classification), ``classification`` or ``regression``.
        seeds: One replicate per seed; all members go into one ensemble bundle.
        out_dir: Output root; the run writes ``<out_dir>/<name>/{model.pt, metrics.json, plots/}``.
        device: ``cpu``, ``cuda`` or ``auto``.
        deterministic: ``torch.use_deterministic_algorithms(True)``.
        plots: Write parity / ROC / learning-curve PNGs.
        progress: Progress bar (``None``: when stderr is a terminal).
        threads: ``torch.set_num_threads`` for the run (0 = leave torch's default). Small models on a
            shared CPU run much faster with 1.
    """

    name: str = "finetune"
    data: FinetuneDataConfig = field(default_factory=FinetuneDataConfig)
    split: FinetuneSplitConfig = field(default_factory=FinetuneSplitConfig)
    model: FinetuneModelConfig = field(default_factory=FinetuneModelConfig)
    optim: FinetuneOptimConfig = field(default_factory=FinetuneOptimConfig)
    task_type: Literal["auto", "classification", "regression"] = "auto"
    seeds: tuple[int, ...] = (0,)
    out_dir: Path = Path("runs/finetune")
    device: str = "cpu"
    deterministic: bool = True
    plots: bool = True
    progress: bool | None = None
    threads: int = 0

    def __post_init__(self) -> None:
        if not self.data.input:
            raise ValueError("data.input is required (a dataset directory or a raw input file)")
        if not self.seeds:
            raise ValueError("seeds must list at least one seed")
        if self.optim.epochs < 1 or self.optim.batch_size < 1 or self.optim.eval_batch_size < 1:
            raise ValueError("optim.epochs, optim.batch_size and optim.eval_batch_size must be >= 1")
        if self.optim.lr <= 0 or (self.optim.encoder_lr_mult or 0.0) < 0:
            raise ValueError("optim.lr must be > 0 and optim.encoder_lr_mult >= 0")
        fr = self.split.fractions
        if any(f < 0 for f in fr) or abs(sum(fr) - 1.0) > 1e-6:
            raise ValueError(f"split.fractions must be >= 0 and sum to 1, got {fr}")
        if self.split.method == "file" and self.split.file is None:
            raise ValueError("split.method 'file' needs split.file")
        if self.split.method == "kfold" and not 0 <= self.split.fold < self.split.n_folds:
            raise ValueError(f"split.fold must be in [0, {self.split.n_folds})")


def encoder_lr_mult(cfg: FinetuneConfig) -> float:
    """The encoder's LR multiplier of a run: the configured one, else 0.1 pretrained / 1.0 from scratch."""
    if cfg.optim.encoder_lr_mult is not None:
        return cfg.optim.encoder_lr_mult
    return 0.1 if cfg.model.pretrained is not None else 1.0
