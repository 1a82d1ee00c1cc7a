"""The CGCNN crystal baseline on real crystal records (two bundled AFLOW prototype structures)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from pymatgen.core import Structure
from torch_geometric.data import Batch

from featurizers.crystal import crystal_spec, featurize_structure
from harmony_mol.config import ConfigError, config_to_dict, load_config
from harmony_mol.finetune.config import FinetuneConfig
from harmony_mol.models.property_model import build_model
from harmony_mol.models.registry import build_encoder, encoder_config_from_dict
from harmony_mol.nn.encoder_config import CGCNNEncoderConfig
from harmony_mol.nn.inputs import InputDims

CIFS = Path(__file__).resolve().parents[2] / "data" / "crystals" / "aflow_prototypes"
SPEC = crystal_spec()  # 40 Gaussians + dx, dy, dz


def two_crystals() -> Batch:
    """Rock salt (2 sites) and an A2B3 rhombohedral cell (5 sites), featurized as the suite does."""
    names = ("AB_cF8_225_a_b.cif", "A2B3_hR5_166_c_ac.cif")
    return Batch.from_data_list([featurize_structure(Structure.from_file(CIFS / n), SPEC, row_id=i)
                                 for i, n in enumerate(names)])


def test_shapes_registry_and_distance_only() -> None:
    batch = two_crystals()
    enc = build_encoder({"arch": "cgcnn", "hidden_dim": 16, "num_layers": 2}, SPEC.to_dict())
    assert type(enc.cfg) is CGCNNEncoderConfig and enc.edge_dim == 40 and len(enc.convs) == 2
    enc.eval()
    h = enc(batch)
    assert h.shape == (batch.num_nodes, 16) and batch.num_nodes == 7 and torch.isfinite(h).all()
    assert (h > 0).all()  # softplus after every convolution, as CGCNN
    moved = batch.clone()
    moved.edge_feat[:, 40:] = torch.randn(batch.num_edges, 3)  # dx, dy, dz are not read
    assert torch.equal(enc(moved), h)
    again = build_encoder(config_to_dict(enc.cfg), SPEC.to_dict())
    again.load_state_dict(enc.state_dict())
    assert torch.equal(again.eval()(batch), h)
    assert build_encoder(CGCNNEncoderConfig(hidden_dim=8, distance_only=False), SPEC.to_dict()).edge_dim == 43
    model = build_model(enc, 1, "mean", {"hidden_dim": 8, "activation": "softplus"})
    assert model(batch).shape == (2, 1) and isinstance(model.head.net[2], torch.nn.Softplus)
    with pytest.raises(ValueError, match="node mask"):
        enc(batch, node_mask=torch.zeros(batch.num_nodes, dtype=torch.bool))
    with pytest.raises(ValueError, match="distance expansion"):  # molecule-like edges: nothing to convolve on
        build_encoder(CGCNNEncoderConfig(), InputDims((10,), 3, (5,), 0))


def test_overfits_two_structures() -> None:
    torch.manual_seed(0)
    batch = two_crystals()
    model = build_model(build_encoder(CGCNNEncoderConfig(hidden_dim=16), SPEC.to_dict()), 1, "mean",
                        {"hidden_dim": 16, "dropout": 0.0, "activation": "softplus"})
    y = torch.tensor([[1.0], [-1.0]])
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(40):
        loss = torch.nn.functional.mse_loss(model(batch), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.01 * losses[0], losses[::10]


def test_unknown_key_under_cgcnn_fails_at_load() -> None:
    with pytest.raises(ValueError, match=r"unknown key\(s\) width"):
        encoder_config_from_dict({"arch": "cgcnn", "width": 3})
    over = {"data.input": "x", "model.encoder": {"arch": "cgcnn", "num_layers": 2}, "model.head_activation": "softplus"}
    cfg = load_config(FinetuneConfig, None, over)
    assert cfg.model.encoder == CGCNNEncoderConfig(num_layers=2) and cfg.model.head_activation == "softplus"
    with pytest.raises(ConfigError, match=r"unknown key\(s\) model.encoder.hops"):
        load_config(FinetuneConfig, None, {**over, "model.encoder": {"arch": "cgcnn", "hops": [1, 2]}})
    with pytest.raises(ConfigError, match="head_activation"):
        load_config(FinetuneConfig, None, {**over, "model.head_activation": "tanh"})
