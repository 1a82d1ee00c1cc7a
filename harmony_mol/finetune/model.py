"""The fine-tuned property model: HarmonyEncoder → graph read-out → MLP head."""

from __future__ import annotations

import logging
from typing import Any

from torch import Tensor, nn

from harmony_mol.nn.heads import MLPHead
from harmony_mol.nn.readout import GraphReadout

logger = logging.getLogger(__name__)


class PropertyModel(nn.Module):
    """Graph-level property model.

    Args:
        encoder: A node encoder with ``out_dim`` and ``forward(batch) -> [N, D]``
            (:class:`~harmony_mol.nn.encoder.HarmonyEncoder`).
        readout: Graph pooling over the encoder's node embeddings.
        head: MLP mapping pooled embeddings to ``T`` outputs.

    Shapes:
        - batch: a PyG ``Batch``-like object with ``.batch`` ``[N]`` and ``.num_graphs`` = ``B``
        - :meth:`embed`: ``[B, readout.out_dim]``; :meth:`forward`: ``[B, T]`` (logits or standardised values)
    """

    def __init__(self, encoder: nn.Module, readout: GraphReadout, head: MLPHead) -> None:
        super().__init__()
        self.encoder = encoder
        self.readout = readout
        self.head = head

    def embed(self, batch: Any) -> Tensor:
        """Pooled graph embeddings ``[B, readout.out_dim]``."""
        h = self.encoder(batch)
        return self.readout(h, batch.batch, int(batch.num_graphs))

    def forward(self, batch: Any) -> Tensor:
        """Raw outputs ``[B, T]``."""
        return self.head(self.embed(batch))


def build_encoder(encoder_config: dict[str, Any], input_dims: dict[str, Any]) -> nn.Module:
    """A fresh :class:`HarmonyEncoder` from plain-dict configs (as stored in checkpoints and bundles)."""
    from harmony_mol.checkpoint import build_encoder as _build

    return _build(dict(encoder_config), dict(input_dims))


def build_model(
    encoder: nn.Module, num_tasks: int, readout: str, head_config: dict[str, Any]
) -> PropertyModel:
    """Wrap ``encoder`` with a read-out and a head.

    ``head_config`` keys: ``hidden_dim``, ``num_layers``, ``dropout``, ``activation`` (all optional).
    """
    dim = int(getattr(encoder, "out_dim"))
    pool = GraphReadout(readout, dim)
    head = MLPHead(pool.out_dim, num_tasks, **head_config)
    return PropertyModel(encoder, pool, head)
