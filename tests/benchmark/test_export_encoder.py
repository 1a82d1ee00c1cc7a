"""The slim encoder export keeps weights and configs and drops the resume-only state."""

from __future__ import annotations

from pathlib import Path

import torch

from harmony_mol.config import config_to_dict
from harmony_mol.models.io import RESUME_ONLY, export_encoder, load_checkpoint, load_encoder, save_checkpoint
from harmony_mol.nn.encoder import HarmonyEncoder
from harmony_mol.nn.encoder_config import HarmonyEncoderConfig
from harmony_mol.nn.inputs import InputDims


def test_export_encoder_drops_resume_state(tmp_path: Path) -> None:
    dims = InputDims((12, 3), 0, (4,), 0)
    cfg = HarmonyEncoderConfig(hidden_dim=16, wgcn_hidden=16, mlp_hidden=16, heads=2, hops=(1, 2))
    enc = HarmonyEncoder(cfg, dims)
    big = torch.zeros(50_000)
    src = save_checkpoint(tmp_path / "full.pt", {
        "encoder_config": config_to_dict(cfg), "input_dims": dims.to_dict(), "featurizer_spec": {"preset": "x"},
        "student": enc.state_dict(), "teacher": enc.state_dict(), "optimizer": {"buf": big},
        "scheduler": {"last": 3}, "rng": {"torch": torch.get_rng_state()}, "state": {"difficulty": big}, "step": 7})
    dst = export_encoder(src, tmp_path / "slim.pt")
    slim = load_checkpoint(dst)
    assert not set(RESUME_ONLY) & set(slim) and slim["step"] == 7 and slim["exported_from"] == str(src)
    assert dst.stat().st_size < src.stat().st_size / 2
    a, _ = load_encoder(src)
    b, _ = load_encoder(dst)
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and torch.equal(va, vb)
