"""SSL diagnostics: is the encoder collapsing, is the objective solved trivially, which token view counts?

The node mode (``harmony_mol/benchmark/nodes/train.py``) writes them with every evaluation.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["effective_rank", "masked_unmasked_stats", "view_contributions"]


@torch.no_grad()
def effective_rank(emb: Tensor, max_rows: int = 4096) -> float:
    """Effective rank of ``emb [N, d]``: 1 = collapsed to a line, ``d`` = isotropic, 0 if all rows are equal.

    ``exp(H(p))`` of the normalised singular values of the centred embeddings (Roy & Vetterli 2007; RankMe,
    Garrido et al. 2023), on at most ``max_rows`` evenly spaced rows.
    """
    e = emb.detach().float().cpu()
    if e.size(0) > max_rows:
        e = e[:: max(1, e.size(0) // max_rows)][:max_rows]
    sv = torch.linalg.svdvals(e - e.mean(0, keepdim=True))
    total = float(sv.sum())
    if total <= 1e-12:
        return 0.0
    p = sv / total
    p = p[p > 0]
    return float(torch.exp(-(p * p.log()).sum()))


@torch.no_grad()
def masked_unmasked_stats(student: Tensor, teacher: Tensor, mask: Tensor) -> dict[str, float]:
    """Squared error and cosine between student and teacher, on masked and unmasked nodes apart.

    Returns ``loss_masked``, ``loss_unmasked`` (mean per-node ``||s - t||^2``) and ``cos_masked``,
    ``cos_unmasked`` (mean cosine) of ``[N, d]`` embeddings; NaN for an empty group.
    """
    s, t = student.detach().float(), teacher.detach().float()
    err = (s - t).pow(2).sum(-1)
    cos = F.cosine_similarity(s, t, dim=-1, eps=1e-8)
    out: dict[str, float] = {}
    for name, sel in (("masked", mask), ("unmasked", ~mask)):
        n = int(sel.sum())
        out[f"loss_{name}"] = float(err[sel].mean()) if n else float("nan")
        out[f"cos_{name}"] = float(cos[sel].mean()) if n else float("nan")
    return out


@torch.no_grad()
def view_contributions(encoder: Any, batch: Any) -> dict[str, float]:
    """Share of the fused embedding carried by each token view, by ablation after the attention fusion.

    For every token ``i`` the pre-attention token is zeroed, the attention block and read-out are rerun,
    and ``c_i = mean_v ||z_v - z_v^(-i)||``; the shares ``c_i / sum_j c_j`` are returned (encoder in eval
    mode during the measurement, restored afterwards).

    Returns:
        ``{token name: share}``, tokens named ``linear``, ``wgcn<i>_<k>hop`` per branch and ``mlp``.
    """
    was = encoder.training
    encoder.eval()
    try:
        tokens = encoder.tokens(encoder.embed_nodes(batch), batch)
        full = encoder.fusion(encoder.block(tokens))
        deltas = []
        for i in range(tokens.size(1)):
            t = tokens.clone()
            t[:, i] = 0.0
            deltas.append(float((full - encoder.fusion(encoder.block(t))).norm(dim=-1).mean()))
    finally:
        encoder.train(was)
    total = sum(deltas)
    names = ["linear"] + [f"wgcn{i}_{k}hop" for i, k in enumerate(encoder.cfg.effective_hops)] + ["mlp"]
    return {n: (d / total if total > 0 else float("nan")) for n, d in zip(names, deltas)}
