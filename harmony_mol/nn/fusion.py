"""Read-outs that reduce a node's post-attention tokens to one vector (``cls``/``max``/``mean``/``hier``)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

_ACTS = {"gelu": nn.GELU, "relu": nn.ReLU, "tanh": nn.Tanh}


class TokenFusion(nn.Module):
    """Fuse ``[N, S, d]`` tokens ordered ``[linear, wgcn_1..wgcn_K, mlp]`` into ``[N, d]``.

    - ``cls`` (code): the linear token, ``Y[:, 0]``.
    - ``max`` (code alternative) / ``mean``: element-wise over tokens.
    - ``hier`` (paper, "near to far"): ``z = X_wgcn_K``; for ``k = K-1..1``: ``z = σ(W[X_wgcn_k ‖ z])``;
      then ``z = σ(W[X_mlp ‖ z])``; then ``z = σ(W[X_linear ‖ z])``. For two WGCN tokens this is the
      paper's ``σ(Lin(X0 ‖ σ(Lin(X1 ‖ σ(Lin(X2 ‖ X3))))))`` with X0 linear, X1 MLP, X2 short, X3 long.

    Args:
        mode: ``"cls"``, ``"max"``, ``"mean"`` or ``"hier"``; dim: token width; num_tokens: ``S`` (>= 3);
        act: ``σ`` for ``hier``.

    Shapes:
        - tokens ``[N, S, d]`` -> ``[N, d]``.
    """

    def __init__(self, mode: str, dim: int, num_tokens: int, act: str = "gelu") -> None:
        super().__init__()
        if mode not in ("cls", "max", "mean", "hier"):
            raise ValueError(f"unknown readout {mode!r}")
        if num_tokens < 3:
            raise ValueError(f"expected >= 3 tokens (linear, wgcn..., mlp), got {num_tokens}")
        self.mode = mode
        self.num_tokens = num_tokens
        if mode == "hier":
            if act not in _ACTS:
                raise ValueError(f"unknown hier_act {act!r}")
            self.merges = nn.ModuleList(nn.Linear(2 * dim, dim) for _ in range(num_tokens - 1))
            self.act = _ACTS[act]()

    def forward(self, tokens: Tensor) -> Tensor:
        """Reduce tokens to one vector per node."""
        if tokens.dim() != 3 or tokens.size(1) != self.num_tokens:
            raise ValueError(f"tokens must be [N, {self.num_tokens}, d], got {tuple(tokens.shape)}")
        if self.mode == "cls":
            return tokens[:, 0]
        if self.mode == "max":
            return tokens.amax(dim=1)
        if self.mode == "mean":
            return tokens.mean(dim=1)
        # merge order: wgcn_K, ..., wgcn_1 (far to near), then mlp (index S-1), then linear (index 0)
        order = list(range(self.num_tokens - 2, 0, -1)) + [self.num_tokens - 1, 0]
        z = tokens[:, order[0]]
        for merge, idx in zip(self.merges, order[1:]):
            z = self.act(merge(torch.cat([tokens[:, idx], z], dim=-1)))
        return z
