"""Persistent per-atom difficulty store for batched pretraining (the difficulty of H3GNNs §3.4, kept per atom).

Atoms are keyed by (dataset graph index, atom offset inside the graph), flattened with the dataset's
``node_ptr``; values are float16. A graph counts as "seen" once all its atoms have a stored value.
"""

from __future__ import annotations

import torch
from torch import Tensor


class DifficultyBuffer:
    """Per-atom difficulty over a whole static dataset.

    Args:
        node_ptr: ``[G+1]`` int64 cumulative atom counts of the dataset (graph g owns atoms
            ``node_ptr[g]:node_ptr[g+1]``).
        device: Where the store lives (the training device, so lookups need no host sync).
    """

    def __init__(self, node_ptr: Tensor, device: str | torch.device = "cpu") -> None:
        if node_ptr.dim() != 1 or node_ptr.numel() < 1:
            raise ValueError("node_ptr must be a 1-D tensor [G+1]")
        self.device = torch.device(device)
        self.node_ptr = node_ptr.to(torch.long).to(self.device)
        total = int(self.node_ptr[-1])
        self.values = torch.full((total,), float("nan"), dtype=torch.float16, device=self.device)
        self.touched: Tensor | None = None  # [total] bool: atoms written since the last distributed merge

    def track_updates(self) -> None:
        """Record which atoms :meth:`update` writes (data-parallel runs merge them across ranks)."""
        self.touched = torch.zeros(self.values.numel(), dtype=torch.bool, device=self.device)

    def atom_ids(self, graph_index: Tensor, batch: Tensor, ptr: Tensor) -> Tensor:
        """Global atom ids ``[N]`` of a batch's nodes from its graphs' dataset indices ``[B]``, ``batch``, ``ptr``."""
        b = batch.to(self.device).long()
        local = torch.arange(b.numel(), device=self.device) - ptr.to(self.device).long()[b]
        return self.node_ptr[graph_index.to(self.device).long()][b] + local

    def lookup(self, graph_index: Tensor, batch: Tensor, ptr: Tensor) -> tuple[Tensor, Tensor]:
        """Stored difficulty per node ``[N]`` (0 for unseen atoms) and a per-graph "seen" flag ``[B]``."""
        v = self.values[self.atom_ids(graph_index, batch, ptr)].float()
        unseen_graph = torch.bincount(batch.to(self.device).long()[torch.isnan(v)], minlength=graph_index.numel()) > 0
        return torch.nan_to_num(v, nan=0.0).to(batch.device), (~unseen_graph).to(batch.device)

    def update(self, graph_index: Tensor, batch: Tensor, ptr: Tensor, difficulty: Tensor) -> None:
        """Store ``difficulty`` ``[N]`` for the batch's atoms (overwrites the previous value)."""
        ids = self.atom_ids(graph_index, batch, ptr)
        self.values[ids] = difficulty.detach().float().to(self.device).clamp(max=6e4).to(torch.float16)
        if self.touched is not None:
            self.touched[ids] = True

    def state_dict(self) -> dict[str, Tensor]:
        """The stored values and the ``node_ptr`` they are keyed by, on CPU."""
        return {"node_ptr": self.node_ptr.cpu(), "values": self.values.cpu()}

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        """Restore the values of :meth:`state_dict` (the dataset must have as many atoms)."""
        if state["values"].numel() != self.values.numel():
            raise ValueError("difficulty buffer size does not match the dataset")
        self.values = state["values"].to(device=self.device, dtype=torch.float16).clone()
        if self.touched is not None:
            self.touched.zero_()
