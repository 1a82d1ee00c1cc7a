"""Per-node self-attention over a node's tokens (one Transformer block; nodes never attend to each other)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


class TokenAttentionBlock(nn.Module):
    """One Transformer block applied independently to each node's ``S`` tokens.

    ``"post"`` (code): ``U = LN1(S + MHA(S))``, ``Y = LN2(U + FFN(U))``.
    ``"pre"`` (paper): ``U = S + MHA(LN1(S))``, ``Y = U + FFN(LN2(U))``.
    FFN = Linear(d, r d) -> ReLU -> Linear(r d, d). No positional / type embeddings (as in the code):
    token identity comes from the branch that produced it.

    ``first_only=True`` returns only token 0's output, computing the query, output projection and FFN
    for that token alone (identical values to ``forward(tokens)[:, 0]``, ~2x cheaper): the fast path of
    the ``cls`` read-out.

    Args:
        dim: Token width ``d``; heads: attention heads; ffn_ratio: FFN width multiple ``r``.
        attn_dropout: Dropout on attention probabilities; norm_style: ``"post"`` or ``"pre"``.
        qk_dim: Total query/key width (``None`` = ``dim``, as in the code); values keep width ``dim``.

    Shapes:
        - tokens ``[N, S, d]`` -> ``[N, S, d]`` (``[N, d]`` with ``first_only``). Attention maps are
          ``[N, heads, S, S]`` (not returned).
    """

    def __init__(self, dim: int, heads: int, ffn_ratio: float, attn_dropout: float, norm_style: str,
                 qk_dim: int | None = None) -> None:
        super().__init__()
        qk_dim = dim if qk_dim is None else qk_dim
        if dim % heads or qk_dim % heads:
            raise ValueError(f"dim={dim} and qk_dim={qk_dim} must be divisible by heads={heads}")
        if norm_style not in ("post", "pre"):
            raise ValueError(f"unknown norm_style {norm_style!r}")
        self.heads = heads
        self.norm_style = norm_style
        self.attn_dropout = attn_dropout
        self.dim = dim
        self.qk_dim = qk_dim
        self.q = nn.Linear(dim, qk_dim)
        self.kv = nn.Linear(dim, qk_dim + dim)
        self.proj = nn.Linear(dim, dim)
        hidden = max(1, int(round(ffn_ratio * dim)))
        self.ffn = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, dim))
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)

    def _attend(self, s: Tensor, queries: Tensor) -> Tensor:
        """Attention of ``queries`` ``[N, Q, d]`` over the node's own tokens ``s`` ``[N, S, d]``."""
        n, t, d = s.shape
        h = self.heads
        k, v = self.kv(s).split([self.qk_dim, d], dim=-1)
        k = k.view(n, t, h, -1).transpose(1, 2)
        v = v.view(n, t, h, -1).transpose(1, 2)
        q = self.q(queries).view(n, queries.size(1), h, -1).transpose(1, 2)
        p = self.attn_dropout if self.training else 0.0
        o = F.scaled_dot_product_attention(q, k, v, dropout_p=p)  # [N, H, Q, d/H], per node
        return self.proj(o.transpose(1, 2).reshape(n, queries.size(1), d))

    def forward(self, tokens: Tensor, first_only: bool = False) -> Tensor:
        """Apply the block to ``[N, S, d]`` tokens (see the class docstring for ``first_only``)."""
        if tokens.dim() != 3 or tokens.size(-1) != self.dim:
            raise ValueError(f"tokens must be [N, S, {self.dim}], got {tuple(tokens.shape)}")
        if self.norm_style == "post":
            q_in = tokens[:, :1] if first_only else tokens
            u = self.norm1(q_in + self._attend(tokens, q_in))
            y = self.norm2(u + self.ffn(u))
        else:
            s = self.norm1(tokens)
            q_in = s[:, :1] if first_only else s
            u = (tokens[:, :1] if first_only else tokens) + self._attend(s, q_in)
            y = u + self.ffn(self.norm2(u))
        return y[:, 0] if first_only else y
