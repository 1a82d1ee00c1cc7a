"""The fine-tuned property model: encoder -> graph read-out -> MLP head."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from harmony_mol.nn.heads import MLPHead
from harmony_mol.nn.readout import GraphReadout


class PropertyModel(nn.Module):
    """Graph-level property model: a node encoder (``harmony_mol/models/registry.py``), a read-out, a head.

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
        return self.readout(self.encoder(batch), batch.batch, int(batch.num_graphs))

    def forward(self, batch: Any) -> Tensor:
        """Raw outputs ``[B, T]``."""
        return self.head(self.embed(batch))


def build_model(encoder: nn.Module, num_tasks: int, readout: str, head_config: dict[str, Any]) -> PropertyModel:
    """Wrap ``encoder`` with the read-out ``readout`` (``harmony_mol/nn/readout.py``) and a head of ``num_tasks``.

    ``head_config``: ``hidden_dim``, ``num_layers``, ``dropout``, ``activation`` of the head (all optional).
    """
    pool = GraphReadout(readout, int(getattr(encoder, "out_dim")))
    return PropertyModel(encoder, pool, MLPHead(pool.out_dim, num_tasks, **head_config))
