"""The pretraining data path: an epoch order that depends on (seed, epoch) only, and batches over it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor

from harmony_mol.ssl.config import PretrainConfig

__all__ = ["epoch_order", "EpochData"]


def epoch_order(n: int, seed: int, epoch: int) -> Tensor:
    """Permutation of ``range(n)`` for ``epoch``; depends on (seed, epoch) only (resume-safe)."""
    g = torch.Generator().manual_seed(int(seed) * 1_000_003 + int(epoch))
    return torch.randperm(n, generator=g)


class EpochData:
    """The dataset plus a batch iterator over a given index order (fast or PyG loader)."""

    def __init__(self, cfg: PretrainConfig, device: torch.device) -> None:
        from harmony_mol.data.store import load_dataset

        if not cfg.dataset:
            raise ValueError("PretrainConfig.dataset is empty: give the featurized dataset directory")
        self.cfg, self.device = cfg, device
        self.ds = load_dataset(cfg.dataset)
        self.spec = self.ds.spec
        self.n = min(len(self.ds), cfg.max_graphs) if cfg.max_graphs > 0 else len(self.ds)
        if self.n == 0:
            raise ValueError(f"dataset {cfg.dataset} has no graphs")
        tensors = self.ds.tensors()
        self.node_ptr = tensors["node_ptr"][: self.n + 1].clone()
        self.fast = None
        if cfg.loader == "fast":
            from harmony_mol.data.loaders import FastGraphLoader

            # tensors move to the device once; each batch is collated there with vectorised ops
            self.fast = FastGraphLoader(tensors, batch_size=cfg.batch_size, shuffle=False, device=device)

    def batches(self, order: Tensor) -> Iterator[Any]:
        """Batches of the graphs in ``order`` (dataset indices), in that order."""
        bs = self.cfg.batch_size
        if self.fast is not None:
            dev_order = order.to(self.device)
            for start in range(0, order.numel(), bs):
                yield self.fast.collate(dev_order[start:start + bs])
            return
        from torch.utils.data import Subset
        from torch_geometric.loader import DataLoader

        loader = DataLoader(Subset(self.ds, order.tolist()), batch_size=bs, shuffle=False,
                            num_workers=self.cfg.num_workers, persistent_workers=False)
        for i, batch in enumerate(loader):
            batch = batch.to(self.device, non_blocking=True)
            batch.graph_index = order[i * bs:(i + 1) * bs].to(self.device)
            yield batch
