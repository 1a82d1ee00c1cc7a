"""Latent-prediction losses, the optional predictor head and collapse monitors (H3GNNs §3.2).

The student's embedding of every node (masked and unmasked) is regressed onto the teacher's.
Per-node losses are averaged per graph first, then over graphs, so large graphs do not dominate.

Per-node losses (``s``, ``t`` in R^d):
    ``l2``  : ||s - t||^2 (the paper's L2; default)
    ``mse`` : ||s - t||^2 / d (the code's ``mse``)
    ``sce`` : (1 - cos(s, t))^alpha (GraphMAE scaled cosine error)
    ``byol``: 2 - 2 cos(s, t)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import global_mean_pool

from harmony_mol.ssl.diagnostics import effective_rank

__all__ = ["LOSSES", "TARGET_NORMS", "LOSS_NODES", "per_node_loss", "normalize_target", "graph_mean", "ssl_loss",
           "graph_level_loss", "Predictor", "collapse_stats"]

LOSSES = ("l2", "mse", "sce", "byol")
TARGET_NORMS = ("none", "layer", "batch")
LOSS_NODES = ("all", "masked")


def normalize_target(teacher: Tensor, kind: str = "none") -> Tensor:
    """Normalise the teacher's embeddings before they become the student's target.

    ``layer``: per node over the ``d`` features, no affine parameters (as data2vec, Baevski et al. 2022).
    ``batch``: per feature over all nodes of the batch (a molecule alone has too few atoms for per-graph
    statistics). ``none``: as is (the paper and the official code). ``[N, d]`` -> detached float32 ``[N, d]``.
    """
    t = teacher.detach().float()
    if kind == "none":
        return t
    if kind == "layer":
        return F.layer_norm(t, t.shape[-1:])
    if kind == "batch":  # one node: 0 / clamped std = 0
        return (t - t.mean(0, keepdim=True)) / t.std(0, unbiased=False, keepdim=True).clamp(min=1e-6)
    raise ValueError(f"unknown target_norm {kind!r}; use one of {TARGET_NORMS}")


def per_node_loss(student: Tensor, teacher: Tensor, kind: str = "l2", alpha: float = 2.0) -> Tensor:
    """Loss of every node (``kind`` as in the module docstring), ``[N, d]`` -> ``[N]`` float32."""
    if student.shape != teacher.shape:
        raise ValueError(f"student {tuple(student.shape)} and teacher {tuple(teacher.shape)} differ")
    s = student.float()
    t = teacher.detach().float()
    if kind == "l2":
        return (s - t).pow(2).sum(-1)
    if kind == "mse":
        return (s - t).pow(2).mean(-1)
    if kind in ("sce", "byol"):
        cos = F.cosine_similarity(s, t, dim=-1, eps=1e-8)
        return (1.0 - cos).pow(alpha) if kind == "sce" else 2.0 - 2.0 * cos
    raise ValueError(f"unknown loss {kind!r}; use one of {LOSSES}")


def graph_mean(values: Tensor, batch: Tensor | None, num_graphs: int | None = None,
               weight: Tensor | None = None) -> Tensor:
    """Mean of per-node ``values [N]`` per graph (``batch`` None: one graph), then over graphs; optionally weighted."""
    w = torch.ones_like(values) if weight is None else weight.to(values.dtype)
    if batch is None:
        return (values * w).sum() / w.sum().clamp(min=1e-12)
    g = num_graphs if num_graphs is not None else int(batch.max()) + 1
    num = torch.zeros(g, device=values.device, dtype=values.dtype).index_add_(0, batch, values * w)
    den = torch.zeros(g, device=values.device, dtype=values.dtype).index_add_(0, batch, w)
    has = den > 0
    return (num[has] / den[has]).mean()


def ssl_loss(student: Tensor, teacher: Tensor, batch: Tensor | None, kind: str = "l2",
             alpha: float = 2.0, mask: Tensor | None = None, masked_weight: float = 1.0,
             num_graphs: int | None = None, loss_nodes: str = "all") -> tuple[Tensor, Tensor]:
    """Per-graph-averaged loss over the chosen nodes, and the per-node losses of all nodes (detached).

    ``loss_nodes="all"`` (paper) averages over every node, with ``masked_weight`` > 1 up-weighting masked
    ones; ``"masked"`` averages over masked nodes only (as GraphMAE and data2vec), and graphs with no
    masked node then contribute nothing.

    Shapes:
        student, teacher: ``[N, d]``; batch, mask: ``[N]``; returns ``(scalar, [N])``.
    """
    if loss_nodes not in LOSS_NODES:
        raise ValueError(f"unknown loss_nodes {loss_nodes!r}; use one of {LOSS_NODES}")
    node = per_node_loss(student, teacher, kind, alpha)
    weight = None
    if loss_nodes == "masked":
        if mask is None:
            raise ValueError("loss_nodes='masked' needs the node mask")
        weight = mask.to(node.dtype)
    elif mask is not None and masked_weight != 1.0:
        weight = torch.where(mask, torch.full_like(node, masked_weight), torch.ones_like(node))
    return graph_mean(node, batch, num_graphs, weight), node.detach()


def graph_level_loss(student: Tensor, teacher: Tensor, batch: Tensor | None, kind: str = "l2",
                     alpha: float = 2.0, num_graphs: int | None = None) -> Tensor:
    """Graph-level JEPA term (not in H3GNNs): per-graph mean-pooled student vs teacher ``[N, d]``, graph mean.

    ``batch`` None: one graph.
    """
    s = global_mean_pool(student.float(), batch, num_graphs)
    t = global_mean_pool(teacher.float(), batch, num_graphs)
    if batch is not None:  # graph ids with no node (num_graphs larger than the batch) are left out
        has = torch.bincount(batch, minlength=s.size(0)) > 0
        s, t = s[has], t[has]
    return per_node_loss(s, t, kind, alpha).mean()


class Predictor(nn.Module):
    """Optional small MLP ``[N, d] -> [N, d]`` on the student's output (off by default: the method has none)."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.LayerNorm(hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, h: Tensor) -> Tensor:
        """Apply the MLP."""
        return self.net(h)


@torch.no_grad()
def collapse_stats(emb: Tensor, max_rows: int = 2048) -> dict[str, float]:
    """Per-dimension std (mean over dims) and :func:`effective_rank` of ``emb [N, d]``, on <= ``max_rows`` rows."""
    e = emb.detach().float()
    if e.size(0) > max_rows:
        e = e[:: max(1, e.size(0) // max_rows)][:max_rows]
    std = float(e.std(dim=0, unbiased=False).mean()) if e.size(0) > 1 else 0.0
    try:
        rank = effective_rank(e, max_rows)
    except RuntimeError:  # pragma: no cover - degenerate input
        rank = float("nan")
    return {"teacher_std": std, "teacher_rank": rank}
