"""Shapes, options and config round trips of the HarmonyGNN encoder."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch_geometric.data import Batch

from harmony_mol.config import config_to_dict, load_config
from harmony_mol.models.registry import encoder_config_from_dict
from harmony_mol.nn.encoder import HarmonyEncoder
from harmony_mol.nn.encoder_config import HarmonyEncoderConfig
from harmony_mol.nn.inputs import InputDims

from .nn_graphs import CRYSTAL_DIMS, MOL_DIMS, NODE_DIMS, make_graph

SMALL = dict(hidden_dim=32, wgcn_hidden=24, mlp_hidden=16, heads=4, qk_dim=8, edge_dim=8, gate_hidden=4)


def small(**kw: object) -> HarmonyEncoderConfig:
    return HarmonyEncoderConfig(**{**SMALL, **kw})


@pytest.mark.parametrize("readout", ["cls", "max", "mean", "hier"])
@pytest.mark.parametrize("norm_style", ["post", "pre"])
def test_molecule_shapes_every_readout(mol_batch: Batch, readout: str, norm_style: str) -> None:
    enc = HarmonyEncoder(small(readout=readout, norm_style=norm_style), MOL_DIMS)
    z, tokens = enc(mol_batch, return_tokens=True)
    assert z.shape == (16, 32) and enc.out_dim == 32
    assert tokens.shape == (16, 4, 32)
    assert torch.isfinite(z).all()
    if readout == "cls":  # the fast path equals the full block's token 0
        enc.eval()
        torch.testing.assert_close(enc(mol_batch), enc(mol_batch, return_tokens=True)[1][:, 0])


@pytest.mark.parametrize("gate", ["features", "none"])
@pytest.mark.parametrize("adj_norm", ["sym", "none"])
@pytest.mark.parametrize("branch_norm", ["batch", "layer", "none"])
def test_crystal_float_edges(gate: str, adj_norm: str, branch_norm: str) -> None:
    cfg = small(hops=(1, 3, 5), edge_gate=gate, adj_norm=adj_norm, branch_norm=branch_norm)
    batch = Batch.from_data_list([make_graph(n, CRYSTAL_DIMS, seed=n) for n in (3, 6)])
    z, tokens = HarmonyEncoder(cfg, CRYSTAL_DIMS)(batch, return_tokens=True)
    assert z.shape == (9, 32) and tokens.shape == (9, 5, 32)


@pytest.mark.parametrize("preset", ["code_faithful", "paper_faithful"])
def test_node_raw_mode(preset: str) -> None:
    data = make_graph(10, NODE_DIMS, seed=0)
    cfg = getattr(HarmonyEncoderConfig, preset)(**SMALL)
    enc = HarmonyEncoder(cfg, NODE_DIMS, num_edges=data.num_edges)
    assert enc.in_dim == 12 and enc.mask_token.shape == (12,)
    assert enc(data).shape == (10, 32)  # a single graph without .batch
    with pytest.raises(ValueError, match="free"):
        enc(make_graph(11, NODE_DIMS, seed=1))  # 20 edges, built for 18
    with pytest.raises(ValueError, match="raw"):
        HarmonyEncoder(cfg, MOL_DIMS, num_edges=8)


def test_free_gate_needs_num_edges() -> None:
    with pytest.raises(ValueError, match="num_edges"):
        HarmonyEncoder(small(edge_gate="free"), MOL_DIMS)


def test_single_atom_graph_without_edges() -> None:
    g = make_graph(1, MOL_DIMS, seed=3, edge_index=torch.zeros(2, 0, dtype=torch.long))
    assert HarmonyEncoder(small(), MOL_DIMS)(g).shape == (1, 32)


def test_code_hop_quirk() -> None:
    assert small(hops=(1, 3), code_hop_quirk=True).effective_hops == (2, 3)
    assert small(hops=(1, 3)).effective_hops == (1, 3)


@pytest.mark.parametrize(
    "bad", [dict(hops=()), dict(hops=(0, 2)), dict(readout="sum"), dict(heads=5), dict(qk_dim=6), dict(dropout=1.0)]
)
def test_config_validation(bad: dict) -> None:
    with pytest.raises(ValueError):
        small(**bad)


def test_config_round_trips(tmp_path) -> None:
    cfg = small(hops=(1, 3, 6), readout="hier")
    assert encoder_config_from_dict(config_to_dict(cfg)) == cfg
    assert encoder_config_from_dict({k: v for k, v in config_to_dict(cfg).items() if k != "arch"}) == cfg  # old files
    with pytest.raises(ValueError, match=r"unknown key\(s\) hidden"):
        encoder_config_from_dict({"hidden": 3})
    path = tmp_path / "enc.yaml"
    path.write_text("hidden_dim: 64\nhops: [1, 4]\nqk_dim: null\nreadout: mean\n")
    loaded = load_config(HarmonyEncoderConfig, path)
    want = dataclasses.replace(HarmonyEncoderConfig(), hidden_dim=64, hops=(1, 4), qk_dim=None, readout="mean")
    assert loaded == want
    assert encoder_config_from_dict(config_to_dict(loaded)) == loaded
    dims = InputDims.from_spec_dict({**MOL_DIMS.to_dict(), "kind": "molecule", "preset": "hu"})
    assert dims == MOL_DIMS


def test_state_dict_reload_same_output(mol_batch: Batch) -> None:
    torch.manual_seed(0)
    a = HarmonyEncoder(small(readout="hier"), MOL_DIMS).eval()
    b = HarmonyEncoder(small(readout="hier"), MOL_DIMS).eval()
    b.load_state_dict(a.state_dict())
    torch.testing.assert_close(a(mol_batch), b(mol_batch))


@pytest.mark.parametrize("readout", ["cls", "hier"])
def test_bf16_autocast_and_crystal_preset(readout: str) -> None:
    batch = Batch.from_data_list([make_graph(n, CRYSTAL_DIMS, seed=n) for n in (3, 6)])
    enc = HarmonyEncoder(HarmonyEncoderConfig.crystal(**SMALL, readout=readout), CRYSTAL_DIMS)
    assert enc.cfg.hops == (1, 3, 6)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        z = enc(batch, node_mask=torch.tensor([True] + [False] * 8))
    assert z.shape == (9, 32) and torch.isfinite(z.float()).all()
    z.float().sum().backward()
    assert enc.fused_in.weight.grad is not None and torch.isfinite(enc.fused_in.weight.grad).all()
