"""Optional masked-feature reconstruction term (``recon_weight``): a GraphMAE-style decoder on the student.

GraphMAE (Hou et al., KDD 2022) rebuilds the input features of masked nodes from the encoder's codes
with the masked codes zeroed, so the decoder has to use the neighbours, and scores it with the scaled
cosine error on masked nodes. Added to the latent loss it anchors the embedding to the node's own
content (data/results/nodes/NOTES.md).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import GCNConv

__all__ = ["FeatureDecoder", "sce_reconstruction_loss"]


class FeatureDecoder(nn.Module):
    """``Linear(d, d)`` -> zero the masked rows -> one PyG ``GCNConv(d, F)``: ``z [N, d]`` -> ``[N, F]``."""

    def __init__(self, dim: int, out_dim: int) -> None:
        super().__init__()
        self.to_code = nn.Linear(dim, dim, bias=False)
        self.conv = GCNConv(dim, out_dim)

    def forward(self, z: Tensor, edge_index: Tensor, mask: Tensor) -> Tensor:
        """Reconstructed input features of every node."""
        code = torch.where(mask.unsqueeze(-1), torch.zeros((), dtype=z.dtype, device=z.device), self.to_code(z))
        return self.conv(code, edge_index)


def sce_reconstruction_loss(recon: Tensor, x: Tensor, mask: Tensor, alpha: float = 3.0) -> Tensor:
    """Scaled cosine error between ``recon`` and ``x`` (``[N, F]``) on masked nodes; 0 when none is masked."""
    if not bool(mask.any()):
        return recon.sum() * 0.0
    cos = F.cosine_similarity(recon[mask].float(), x[mask].float(), dim=-1, eps=1e-8)
    return (1.0 - cos).pow(alpha).mean()
