"""Graph-level pooling of node embeddings (mean / sum / max / mean‖max / mean‖sum / attention / set2set)."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn import global_add_pool, global_max_pool, global_mean_pool
from torch_geometric.nn.aggr import AttentionalAggregation, Set2Set

READOUTS = ("mean", "sum", "max", "mean_max", "mean_sum", "attention", "set2set")
#: The PyG pools each plain read-out concatenates.
_POOLS = {"mean": (global_mean_pool,), "sum": (global_add_pool,), "max": (global_max_pool,),
          "mean_max": (global_mean_pool, global_max_pool), "mean_sum": (global_mean_pool, global_add_pool)}


class GraphReadout(nn.Module):
    """Pool node embeddings into one vector per graph.

    ``mean`` suits intensive targets (band gap, formation energy per atom), ``sum`` extensive ones;
    ``mean_max`` / ``mean_sum`` concatenate two pools (molecules); ``attention`` is gated attention
    pooling (a learned per-node score, softmax within each graph); ``set2set`` is Vinyals et al.'s
    LSTM read-out (2 processing steps). ``kind`` is one of :data:`READOUTS`, ``dim`` the node width ``D``.

    Shapes:
        - input ``h``: ``[N, D]`` node embeddings, ``batch``: ``[N]`` graph index of each node
        - output: ``[B, out_dim]`` with ``out_dim`` = ``D`` or ``2D`` (``mean_max``, ``mean_sum``, ``set2set``)
    """

    def __init__(self, kind: str, dim: int) -> None:
        super().__init__()
        if kind not in READOUTS:
            raise ValueError(f"unknown readout {kind!r}; choose one of {', '.join(READOUTS)}")
        if dim <= 0:
            raise ValueError(f"readout dim must be positive, got {dim}")
        self.kind = kind
        self.dim = dim
        self.pool: nn.Module | None = None
        if kind == "attention":
            self.pool = AttentionalAggregation(gate_nn=nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, 1)))
        elif kind == "set2set":
            self.pool = Set2Set(dim, processing_steps=2)
        self.out_dim = 2 * dim if kind in ("mean_max", "mean_sum", "set2set") else dim

    def forward(self, h: Tensor, batch: Tensor, num_graphs: int | None = None) -> Tensor:
        """Pool ``h`` per graph (``num_graphs`` keeps trailing empty graphs; defaults to ``batch.max()+1``)."""
        size = int(num_graphs) if num_graphs is not None else (int(batch.max()) + 1 if batch.numel() else 0)
        if self.pool is not None:
            return self.pool(h, index=batch, dim_size=size)
        pools = _POOLS[self.kind]
        if len(pools) == 1:
            return pools[0](h, batch, size)
        return torch.cat([pool(h, batch, size) for pool in pools], dim=-1)

    def extra_repr(self) -> str:
        """Shown in the module's ``repr``."""
        return f"kind={self.kind}, dim={self.dim}, out_dim={self.out_dim}"
