"""Contract check: the encoder consumes the featurizers' real molecule and crystal records."""

from __future__ import annotations

import torch
from pymatgen.core import Lattice, Structure
from torch_geometric.data import Batch

from featurizers.crystal import crystal_spec, featurize_structure
from featurizers.molecule import featurize_smiles, molecule_spec
from harmony_mol.nn.encoder import HarmonyEncoder
from harmony_mol.nn.encoder_config import HarmonyEncoderConfig
from harmony_mol.nn.inputs import InputDims

SMALL = dict(hidden_dim=32, wgcn_hidden=24, mlp_hidden=16, heads=4, qk_dim=8, edge_dim=8, gate_hidden=4)


def test_molecule_records() -> None:
    spec = molecule_spec()
    graphs = [featurize_smiles(s, spec, row_id=i) for i, s in enumerate(["CCO", "c1ccccc1O", "[Na+].[Cl-]"])]
    batch = Batch.from_data_list(graphs)
    enc = HarmonyEncoder(HarmonyEncoderConfig(**SMALL), InputDims.from_spec_dict(spec.to_dict()))
    z = enc(batch, node_mask=torch.arange(batch.num_nodes) % 3 == 0)
    assert z.shape == (batch.num_nodes, 32) and torch.isfinite(z).all()


def test_crystal_records() -> None:
    spec = crystal_spec()
    nacl = Structure(Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    batch = Batch.from_data_list([featurize_structure(nacl, spec, row_id=0)])
    enc = HarmonyEncoder(HarmonyEncoderConfig.crystal(**SMALL), InputDims.from_spec_dict(spec.to_dict()))
    z, tokens = enc(batch, return_tokens=True)
    assert z.shape == (2, 32) and tokens.shape == (2, 5, 32) and torch.isfinite(z).all()
