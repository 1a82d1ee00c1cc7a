"""Per-node self-attention over a node's tokens (one Transformer block; nodes never attend to each other)."""

from __future__ import annotations

import logging

import torch.nn.functional as F
from torch import Tensor, nn

logger = logging.getLogger(__name__)


class TokenAttentionBlock(nn.Module):
    """One Transformer block applied independently to each node's ``S`` tokens.

    ``"post"`` (code): ``U = LN1(S + MHA(S))``, ``Y = LN2(U + FFN(U))``.
    ``"pre"`` (paper): ``U = S + MHA(LN1(S))``, ``Y = U + FFN(LN2(U))``.
    FFN = Linear(d, r d) -> ReLU -> Linear(r d, d). No positional / type embeddings (as in the code):
    token identity comes from the branch that produced it.

    Args:
        dim: Token width ``d``; heads: attention heads; ffn_ratio: FFN width multiple ``r``.
        attn_dropout: Dropout on attention probabilities; norm_style: ``"post"`` or ``"pre"``.

    Shapes:
        - tokens ``[N, S, d]`` -> ``[N, S, d]``. Attention maps are ``[N, heads, S, S]`` (not returned).
    """

    def __init__(self, dim: int, heads: int, ffn_ratio: float, attn_dropout: float, norm_style: str) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim={dim} is not divisible by heads={heads}")
        if norm_style not in ("post", "pre"):
            raise ValueError(f"unknown norm_style {norm_style!r}")
        self.heads = heads
        self.norm_style = norm_style
        self.attn_dropout = attn_dropout
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        hidden = max(1, int(round(ffn_ratio * dim)))
        self.ffn = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, dim))
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)

    def _attend(self, s: Tensor) -> Tensor:
        n, t, d = s.shape
        q, k, v = self.qkv(s).view(n, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4).unbind(0)
        p = self.attn_dropout if self.training else 0.0
        o = F.scaled_dot_product_attention(q, k, v, dropout_p=p)  # [N, H, S, dk], per node
        return self.proj(o.transpose(1, 2).reshape(n, t, d))

    def forward(self, tokens: Tensor) -> Tensor:
        """Apply the block to ``[N, S, d]`` tokens."""
        if tokens.dim() != 3:
            raise ValueError(f"tokens must be [N, S, d], got {tuple(tokens.shape)}")
        if self.norm_style == "post":
            u = self.norm1(tokens + self._attend(tokens))
            return self.norm2(u + self.ffn(u))
        u = tokens + self._attend(self.norm1(tokens))
        return u + self.ffn(self.norm2(u))
