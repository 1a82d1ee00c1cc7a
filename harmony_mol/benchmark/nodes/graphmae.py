"""GraphMAE reference self-supervised method (positive control for the node report).

GraphMAE (Hou et al., KDD 2022, arXiv:2205.10803): mask a share of the nodes' input features with a
learnable token, encode with a GNN, re-mask the masked nodes' codes, decode features with a one-layer
GNN and score the reconstruction of the **masked** nodes with the scaled cosine error
``(1 - cos(x, x_hat))^alpha``. Two encoders:

* ``encoder="gat"`` (default): the authors' published Cora setup (``configs.yml`` of THUDM/GraphMAE, the
  defaults of :class:`GraphMAEConfig`) on PyG ``GATConv`` (self-loops added), PReLU after every layer.
* ``encoder="gcn"``: the same recipe on plain PyG ``GCNConv`` layers (encoder and decoder).

A probe on it shows what a standard SSL method reaches with our probe, splits and features; if it
cannot reach the published ~84 on Cora, the protocol is at fault.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import GATConv, GCNConv


@dataclass(frozen=True)
class GraphMAEConfig:
    """GraphMAE settings (defaults: the authors' Cora configuration).

    Args:
        encoder: ``"gat"`` (GraphMAE's own) or ``"gcn"`` (plain GCNConv encoder and decoder).
        hidden: Encoder output width (with GAT split over ``heads`` and concatenated).
        layers, heads: Encoder layers and GAT attention heads.
        decoder_heads: GAT heads of the one-layer decoder.
        mask_ratio: Share of nodes whose features are masked.
        replace_ratio: Share of the masked nodes that get a random node's features instead of the token.
        alpha: SCE exponent.
        dropout, attn_dropout: Feature dropout before every layer and GAT attention dropout (GraphMAE
            ``in_drop`` and ``attn_drop``).
        negative_slope: GAT LeakyReLU slope.
        lr, weight_decay, epochs: Adam settings.
        cosine: Cosine LR schedule ``(1 + cos(pi e / epochs)) / 2`` stepped per epoch (GraphMAE ``scheduler``;
            :func:`harmony_mol.trainer.warmup_cosine` without warm-up).
        eval_every: Probe every this many epochs (and at the last); ``0`` = the run's ``eval_every``.
        max_seeds: Run only the first this many of the run's pretraining seeds (``0`` = all); GraphMAE's
            1,500 GAT epochs cost far more than a HarmonyGNN run on a CPU.
    """

    encoder: Literal["gat", "gcn"] = "gat"
    hidden: int = 512
    layers: int = 2
    heads: int = 4
    decoder_heads: int = 1
    mask_ratio: float = 0.5
    replace_ratio: float = 0.05
    alpha: float = 3.0
    dropout: float = 0.2
    attn_dropout: float = 0.1
    negative_slope: float = 0.2
    lr: float = 1e-3
    weight_decay: float = 2e-4
    epochs: int = 1500
    cosine: bool = True
    eval_every: int = 0
    max_seeds: int = 0

    def __post_init__(self) -> None:
        if self.encoder not in ("gat", "gcn"):
            raise ValueError(f"graphmae encoder must be 'gat' or 'gcn', got {self.encoder!r}")
        if self.layers < 1 or self.epochs < 1 or self.eval_every < 0:
            raise ValueError("graphmae layers and epochs must be >= 1 and eval_every >= 0")
        if self.encoder == "gat" and self.hidden % self.heads:
            raise ValueError(f"graphmae hidden ({self.hidden}) must be divisible by heads ({self.heads})")
        if not 0.0 < self.mask_ratio < 1.0 or not 0.0 <= self.replace_ratio < 1.0:
            raise ValueError("graphmae mask_ratio must be in (0, 1) and replace_ratio in [0, 1)")


class _ConvStack(nn.Module):
    """Dropout -> conv -> PReLU (or nothing, ``prelu=False``) per layer: GraphMAE's encoder and GAT decoder.

    Shapes:
        x ``[N, F]``, edge_index ``[2, E]`` -> ``[N, out]`` of the last conv.
    """

    def __init__(self, convs: list[nn.Module], dropout: float, prelu: bool = True) -> None:
        super().__init__()
        self.convs = nn.ModuleList(convs)
        self.acts = nn.ModuleList(nn.PReLU() if prelu else nn.Identity() for _ in convs)
        self.dropout = dropout

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        """Run the stack; see the class docstring for shapes."""
        h = x
        for conv, act in zip(self.convs, self.acts):
            h = F.dropout(h, self.dropout, self.training)
            h = act(conv(h, edge_index))
        return h


class GraphMAE(nn.Module):
    """Masked feature reconstruction: GAT or GCN encoder, re-mask, one-layer decoder, SCE on masked nodes.

    Shapes:
        x ``[N, F]``, edge_index ``[2, E]`` -> scalar loss (:meth:`loss`), ``[N, hidden]`` (:meth:`embed`).
    """

    def __init__(self, in_dim: int, cfg: GraphMAEConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.enc_mask_token = nn.Parameter(torch.zeros(in_dim))
        self.decoder: nn.Module
        if cfg.encoder == "gat":  # heads concatenated: hidden // heads channels each
            per_head = cfg.hidden // cfg.heads
            hidden = per_head * cfg.heads
            self.encoder = _ConvStack([GATConv(a, per_head, heads=cfg.heads, concat=True, dropout=cfg.attn_dropout,
                                               negative_slope=cfg.negative_slope)
                                       for a in [in_dim] + [hidden] * (cfg.layers - 1)], cfg.dropout)
            self.decoder = _ConvStack([GATConv(hidden, in_dim, heads=cfg.decoder_heads, concat=False,
                                               dropout=cfg.attn_dropout, negative_slope=cfg.negative_slope)],
                                      cfg.dropout, prelu=False)
        else:
            hidden = cfg.hidden
            self.encoder = _ConvStack([GCNConv(a, hidden, cached=True) for a in [in_dim] + [hidden] * (cfg.layers - 1)],
                                      cfg.dropout)
            self.decoder = GCNConv(hidden, in_dim, cached=True)
        self.to_decoder = nn.Linear(hidden, hidden, bias=False)

    def loss(self, x: Tensor, edge_index: Tensor, gen: torch.Generator) -> Tensor:
        """One masked-reconstruction loss (SCE on the masked nodes); ``gen`` draws the masks (CPU)."""
        n = x.size(0)
        perm = torch.randperm(n, generator=gen).to(x.device)
        num_mask = int(self.cfg.mask_ratio * n)
        masked = perm[:num_mask]
        num_noise = int(self.cfg.replace_ratio * num_mask)
        x_in = x.clone()
        token_nodes = masked[: num_mask - num_noise]
        x_in[token_nodes] = 0.0
        if num_noise > 0:
            src = torch.randperm(n, generator=gen)[:num_noise].to(x.device)
            x_in[masked[num_mask - num_noise:]] = x[src]
        x_in[token_nodes] += self.enc_mask_token
        code = self.to_decoder(self.encoder(x_in, edge_index))
        code[masked] = 0.0  # re-mask: the decoder must rebuild masked nodes from their neighbours
        recon = self.decoder(code, edge_index)
        cos = F.cosine_similarity(recon[masked], x[masked], dim=-1)
        return (1.0 - cos).pow(self.cfg.alpha).mean()

    @torch.no_grad()
    def embed(self, x: Tensor, edge_index: Tensor) -> Tensor:
        """Frozen encoder output (eval mode, unmasked input)."""
        self.eval()
        return self.encoder(x, edge_index)
