"""Latent-prediction losses, the optional predictor head and collapse monitors (method §3.2, §8.6).

The student's embedding of every node (masked and unmasked) is regressed onto the teacher's.
Per-node losses are averaged per graph first, then over graphs, so large graphs do not dominate.

Per-node losses (``s``, ``t`` in R^d):
    ``l2``  : ||s - t||^2 (the paper's L2; default)
    ``mse`` : ||s - t||^2 / d (the code's ``mse``)
    ``sce`` : (1 - cos(s, t))^alpha (GraphMAE scaled cosine error)
    ``byol``: 2 - 2 cos(s, t)
"""

from __future__ import annotations

import logging

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import global_mean_pool

logger = logging.getLogger(__name__)

__all__ = ["LOSSES", "per_node_loss", "graph_mean", "ssl_loss", "graph_level_loss", "Predictor", "collapse_stats"]

LOSSES = ("l2", "mse", "sce", "byol")


def per_node_loss(student: Tensor, teacher: Tensor, kind: str = "l2", alpha: float = 2.0) -> Tensor:
    """Loss of every node.

    Shapes:
        student, teacher: ``[N, d]``; returns ``[N]`` float32.
    """
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
    """Mean of per-node ``values`` per graph, then over graphs (optionally node-weighted).

    Shapes:
        values: ``[N]``; batch: ``[N]`` int64 or None (one graph); weight: ``[N]``; returns scalar.
    """
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
             num_graphs: int | None = None) -> tuple[Tensor, Tensor]:
    """Per-graph-averaged loss over all nodes, and the per-node losses (detached).

    ``masked_weight`` > 1 up-weights masked nodes (default 1 = all nodes equal, as in the paper).

    Shapes:
        student, teacher: ``[N, d]``; batch, mask: ``[N]``; returns ``(scalar, [N])``.
    """
    node = per_node_loss(student, teacher, kind, alpha)
    weight = None
    if mask is not None and masked_weight != 1.0:
        weight = torch.where(mask, torch.full_like(node, masked_weight), torch.ones_like(node))
    return graph_mean(node, batch, num_graphs, weight), node.detach()


def graph_level_loss(student: Tensor, teacher: Tensor, batch: Tensor | None, kind: str = "l2",
                     alpha: float = 2.0, num_graphs: int | None = None) -> Tensor:
    """Graph-level JEPA term (method §8.6): per-graph mean-pooled student vs teacher, averaged over graphs.

    Shapes:
        student, teacher: ``[N, d]``; batch: ``[N]`` int64 or None (one graph); returns a scalar.
    """
    s = global_mean_pool(student.float(), batch, num_graphs)
    t = global_mean_pool(teacher.float(), batch, num_graphs)
    if batch is not None:  # graph ids with no node (num_graphs larger than the batch) are left out
        has = torch.bincount(batch, minlength=s.size(0)) > 0
        s, t = s[has], t[has]
    return per_node_loss(s, t, kind, alpha).mean()


class Predictor(nn.Module):
    """Optional small MLP on the student's output (off by default: the method has none).

    Shapes:
        input ``[N, d]`` -> output ``[N, d]``.
    """

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.LayerNorm(hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, h: Tensor) -> Tensor:
        return self.net(h)


@torch.no_grad()
def collapse_stats(emb: Tensor, max_rows: int = 2048) -> dict[str, float]:
    """Per-dimension std (mean over dims) and an effective-rank proxy of embeddings.

    Effective rank = exp(entropy of the normalised singular values) of the centred embeddings
    (1 = fully collapsed, d = isotropic), on at most ``max_rows`` rows.

    Shapes:
        emb: ``[N, d]``.
    """
    e = emb.detach().float()
    if e.size(0) > max_rows:
        e = e[:: max(1, e.size(0) // max_rows)][:max_rows]
    std = float(e.std(dim=0, unbiased=False).mean()) if e.size(0) > 1 else 0.0
    c = e - e.mean(0, keepdim=True)
    try:
        sv = torch.linalg.svdvals(c.cpu())
    except RuntimeError:  # pragma: no cover - degenerate input
        return {"teacher_std": std, "teacher_rank": float("nan")}
    p = sv / sv.sum().clamp(min=1e-12)
    p = p[p > 0]
    rank = float(torch.exp(-(p * p.log()).sum())) if p.numel() else 0.0
    return {"teacher_std": std, "teacher_rank": rank}
