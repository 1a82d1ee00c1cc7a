"""Node masking for HarmonyGNN pretraining: random, +Diffi and +Prob, applied per graph.

All functions are pure and vectorised over a batch of graphs given by the PyG ``batch`` vector
(``[N]`` int64 node -> graph id, graphs stored contiguously or not), with no Python loop over graphs; a
single big graph (node-level mode) is ``batch = zeros(N)``. Masks are BoolTensors ``[N]``, difficulties
``[N]`` float (larger = harder). A graph with ``n`` nodes gets ``k = max(1, round(R n))``
masked nodes, capped at ``n - 1`` so that no graph is ever fully masked. ``prob`` (H3GNNs §3.4) masks
each node independently; its expected count is at most ``R n``, with equality only when all nodes of
the graph are equally hard.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["mask_counts", "rank_within_graph", "random_mask", "diffi_mask", "prob_mask", "make_mask",
           "node_difficulty"]


def _num_graphs(batch: Tensor, num_graphs: int | None) -> int:
    if num_graphs is not None:
        return int(num_graphs)
    return int(batch.max()) + 1 if batch.numel() else 0


def _check(batch: Tensor, ratio: float, exploit: float | None = None, difficulty: Tensor | None = None) -> None:
    if batch.dim() != 1:
        raise ValueError(f"batch must be 1-D [N], got shape {tuple(batch.shape)}")
    if not 0.0 < ratio < 1.0:
        raise ValueError(f"mask ratio must be in (0, 1), got {ratio}")
    if exploit is not None and not 0.0 <= exploit <= 1.0:
        raise ValueError(f"exploitation rate r must be in [0, 1], got {exploit}")
    if difficulty is not None and difficulty.shape != batch.shape:
        raise ValueError(f"difficulty {tuple(difficulty.shape)} and batch {tuple(batch.shape)} differ")


def mask_counts(batch: Tensor, ratio: float, num_graphs: int | None = None) -> tuple[Tensor, Tensor]:
    """Nodes per graph ``n [G]`` and nodes to mask per graph ``k = clamp(max(1, round(R n)), max=n - 1)``."""
    _check(batch, ratio)
    g = _num_graphs(batch, num_graphs)
    n = torch.bincount(batch, minlength=g)
    k = torch.round(n.to(torch.float64) * ratio).to(torch.long).clamp(min=1)
    k = torch.minimum(k, (n - 1).clamp(min=0))
    return n, k


def rank_within_graph(score: Tensor, batch: Tensor, descending: bool = False,
                      tiebreak: Tensor | None = None) -> Tensor:
    """Rank ``[N]`` of every node among the nodes of its graph (0 = first), by stable sorts.

    Ties in ``score [N]`` are broken by ``tiebreak [N]`` (ascending), e.g. uniform noise, so equal scores
    are ordered at random.
    """
    if tiebreak is None:
        order = torch.arange(score.numel(), device=score.device)
    else:
        order = torch.argsort(tiebreak, stable=True)
    order = order[torch.argsort(score[order], descending=descending, stable=True)]
    order = order[torch.argsort(batch[order], stable=True)]
    # position of each node in the sorted order minus the start of its graph's block
    sorted_batch = batch[order]
    counts = torch.bincount(sorted_batch, minlength=_num_graphs(sorted_batch, None))
    start = torch.cumsum(counts, 0) - counts
    pos = torch.arange(order.numel(), device=score.device) - start[sorted_batch]
    rank = torch.empty_like(pos)
    rank[order] = pos
    return rank


def _uniform(n: int, device: torch.device, generator: torch.Generator | None) -> Tensor:
    if generator is not None and generator.device.type != device.type:
        return torch.rand(n, generator=generator).to(device)
    return torch.rand(n, generator=generator, device=device)


def random_mask(batch: Tensor, ratio: float, generator: torch.Generator | None = None,
                num_graphs: int | None = None) -> Tensor:
    """Uniformly random mask with exactly ``k_g`` nodes per graph (see :func:`mask_counts`)."""
    _, k = mask_counts(batch, ratio, num_graphs)
    return rank_within_graph(_uniform(batch.numel(), batch.device, generator), batch) < k[batch]


def diffi_mask(difficulty: Tensor, batch: Tensor, ratio: float, exploit: float = 0.5,
               generator: torch.Generator | None = None, num_graphs: int | None = None) -> Tensor:
    """+Diffi: the ``floor(n R r)`` hardest nodes of each graph plus random others, ``k_g`` in all.

    The official code's ``masking="mix"``. Equal difficulties are ordered at random, so an all-equal
    (e.g. never-seen) graph gets a uniformly random mask.
    """
    _check(batch, ratio, exploit, difficulty)
    n, k = mask_counts(batch, ratio, num_graphs)
    n_hard = torch.floor(n.to(torch.float64) * ratio * exploit).to(torch.long)
    n_hard = torch.minimum(n_hard, k)
    u = _uniform(batch.numel(), batch.device, generator)
    hard_rank = rank_within_graph(difficulty.float(), batch, descending=True, tiebreak=u)
    is_hard = hard_rank < n_hard[batch]
    # hard nodes first (key in [-1, 0)), then the others in random order (key in [0, 1))
    u2 = _uniform(batch.numel(), batch.device, generator)
    return rank_within_graph(torch.where(is_hard, u2 - 1.0, u2), batch) < k[batch]


def prob_mask(difficulty: Tensor, batch: Tensor, ratio: float, exploit: float = 0.5,
              generator: torch.Generator | None = None, num_graphs: int | None = None,
              min_one: bool = True) -> Tensor:
    """+Prob: Bernoulli mask with ``p = clip(R (1 - r) + R r diff / max_in_graph(diff), 0, 1)``.

    The difficulty is normalised within each graph; a graph whose max difficulty is below 1e-9
    uses ``p = R (1 - r)`` for all its nodes. Expected count per graph is ``<= R n``. A graph
    that comes out fully masked gets its one node with the largest draw unmasked; with
    ``min_one`` a graph (n >= 2) with no masked node gets one random node masked.
    """
    _check(batch, ratio, exploit, difficulty)
    g = _num_graphs(batch, num_graphs)
    d = difficulty.float().clamp(min=0)
    gmax = torch.zeros(g, device=d.device).scatter_reduce(0, batch, d, reduce="amax", include_self=True)
    denom = gmax[batch]
    rel = torch.where(denom > 1e-9, d / denom.clamp(min=1e-9), torch.zeros_like(d))
    p = (ratio * (1.0 - exploit) + ratio * exploit * rel).clamp(0.0, 1.0)
    u = _uniform(batch.numel(), batch.device, generator)
    mask = u < p
    n = torch.bincount(batch, minlength=g)
    count = torch.bincount(batch[mask], minlength=g)
    # never all nodes: unmask the node with the largest draw in fully masked graphs
    full = (count == n) & (n > 0)
    if bool(full.any()):
        top = rank_within_graph(u, batch, descending=True) == 0
        mask = mask & ~(top & full[batch])
    if min_one:
        empty = (count == 0) & (n >= 2)
        if bool(empty.any()):
            pick = rank_within_graph(u, batch) == 0
            mask = mask | (pick & empty[batch])
    return mask


def make_mask(strategy: str, batch: Tensor, ratio: float, exploit: float = 0.5, difficulty: Tensor | None = None,
              generator: torch.Generator | None = None, num_graphs: int | None = None,
              min_one: bool = True) -> Tensor:
    """Dispatch on ``strategy``; without ``difficulty`` (warm-up, first sighting) every strategy masks at random."""
    if strategy not in ("random", "diffi", "prob"):
        raise ValueError(f"unknown masking strategy {strategy!r}; use random, diffi or prob")
    if strategy == "random" or difficulty is None:
        return random_mask(batch, ratio, generator, num_graphs)
    if strategy == "diffi":
        return diffi_mask(difficulty, batch, ratio, exploit, generator, num_graphs)
    return prob_mask(difficulty, batch, ratio, exploit, generator, num_graphs, min_one)


def node_difficulty(student: Tensor, teacher: Tensor) -> Tensor:
    """Per-node difficulty ``||s - t||^2`` of ``[N, d]`` embeddings: ``[N]`` float32, no gradient."""
    return (student.detach().float() - teacher.detach().float()).pow(2).sum(-1)
