"""Prediction heads on top of pooled graph embeddings."""

from __future__ import annotations

from torch import Tensor, nn


class MLPHead(nn.Module):
    """A small MLP mapping graph embeddings ``[B, in_dim]`` to ``[B, out_dim]`` (logits or standardised values).

    ``num_layers`` counts linear layers (2 = Dropout → Linear → act → Dropout → Linear); 1 is a
    linear probe. ``activation``: ``relu``, ``gelu``, ``silu`` or ``softplus`` (CGCNN).
    """

    def __init__(self, in_dim: int, out_dim: int, hidden_dim: int = 256, num_layers: int = 2, dropout: float = 0.1,
                 activation: str = "relu") -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        if in_dim <= 0 or out_dim <= 0:
            raise ValueError(f"in_dim and out_dim must be positive, got {in_dim}, {out_dim}")
        acts = {"relu": nn.ReLU, "gelu": nn.GELU, "silu": nn.SiLU, "softplus": nn.Softplus}
        if activation not in acts:
            raise ValueError(f"unknown activation {activation!r}; choose one of {', '.join(acts)}")
        layers: list[nn.Module] = []
        width = in_dim
        for _ in range(num_layers - 1):
            layers += [nn.Dropout(dropout), nn.Linear(width, hidden_dim), acts[activation]()]
            width = hidden_dim
        if num_layers > 1:
            layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(width, out_dim))
        self.net = nn.Sequential(*layers)
        self.in_dim, self.out_dim = in_dim, out_dim

    def forward(self, z: Tensor) -> Tensor:
        """Map graph embeddings ``z`` ``[B, in_dim]`` to outputs ``[B, out_dim]``."""
        return self.net(z)
