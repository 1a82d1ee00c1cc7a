"""``harmony speed pretrain``: graphs/s of our teacher-student step beside a same-size GIN.

Both models run in one process on the same ZINC molecules (the MOSES sample of the shared data,
featurized on the fly with the ``harmony`` preset), the same batch size and device, each with two
data paths: the standard PyG ``DataLoader`` (per-graph ``Data`` objects collated every step) and
the pre-collated :class:`~harmony_mol.data.loaders.FastGraphLoader` (vectorised batching from
concatenated tensors, on the device).

Baseline ("GINE masked-attribute", Hu et al. / GraphMAE style, written with PyG): 5 ``GINEConv``
layers of width ``hidden`` with per-layer bond embeddings and BatchNorm, 15 % of atoms per graph
get a [MASK] atom type, a linear head predicts the atom type (cross-entropy), AdamW step.
Ours: the full :class:`~harmony_mol.ssl.step.SSLStepper` step (teacher forward, difficulty-aware
mask, student forward + backward, AdamW, EMA update, difficulty-buffer update), with the predictor and
attribute-masking heads that ``harmony pretrain`` adds when the ``objective`` overrides ask for them.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.data import Data

from harmony_mol.benchmark.speed.featurize import MOSES, read_smiles
from harmony_mol.config import config_to_dict, load_config, parse_overrides
from harmony_mol.data.loaders import FastGraphLoader
from harmony_mol.data.registry import data_dir as find_data_dir
from harmony_mol.nn.encoder import HarmonyEncoder
from harmony_mol.nn.inputs import InputDims
from harmony_mol.ssl.config import PretrainConfig
from harmony_mol.ssl.difficulty import DifficultyBuffer
from harmony_mol.ssl.masking import random_mask
from harmony_mol.ssl.pretrain import build_heads
from harmony_mol.ssl.step import SSLStepper
from harmony_mol.ssl.teacher import make_teacher
from harmony_mol.trainer import autocast, make_scheduler, resolve_device
from harmony_mol.utils.provenance import git_commit, hardware

logger = logging.getLogger(__name__)


def _featurize(smiles: list[str]) -> tuple[list[Data], Any]:
    from featurizers.errors import FeaturizationError
    from featurizers.molecule import featurize_smiles, molecule_spec

    spec = molecule_spec("harmony")
    records = []
    for i, s in enumerate(smiles):
        try:
            records.append(featurize_smiles(s, spec, row_id=i))
        except FeaturizationError as exc:
            logger.warning("skipping row %d: %s", i, exc)
    return records, spec


def records_to_tensors(records: list[Data]) -> dict[str, Tensor]:
    """Concatenate graph records into the ``GraphDataset.tensors()`` layout (local edge ids).

    Shapes:
        x ``[N, C]``, x_feat ``[N, F]``, edge_index ``[2, E]``, edge_attr ``[E, Cb]``, edge_feat
        ``[E, Fe]``, y ``[G, T]``, row_id ``[G]``, node_ptr / edge_ptr ``[G+1]``.
    """
    out = {k: torch.cat([getattr(d, k) for d in records], 0)
           for k in ("x", "x_feat", "edge_attr", "edge_feat", "y", "row_id")}
    out["edge_index"] = torch.cat([d.edge_index for d in records], 1)
    zero = torch.zeros(1, dtype=torch.long)
    out["node_ptr"] = torch.cat([zero, torch.tensor([d.num_nodes for d in records]).cumsum(0)])
    out["edge_ptr"] = torch.cat([zero, torch.tensor([d.edge_index.size(1) for d in records]).cumsum(0)])
    return out


class GineMasking(nn.Module):
    """Baseline: GINE encoder + atom-type prediction of masked atoms (Hu et al. AttrMasking)."""

    def __init__(self, atom_cat_dims: tuple[int, ...], bond_cat_dims: tuple[int, ...], hidden: int = 300,
                 layers: int = 5) -> None:
        from torch_geometric.nn import GINEConv

        super().__init__()
        self.mask_index = atom_cat_dims[0]  # extra row of the first column's table = [MASK]
        self.atom_emb = nn.ModuleList(nn.Embedding(c + (1 if i == 0 else 0), hidden)
                                      for i, c in enumerate(atom_cat_dims))
        self.bond_emb = nn.ModuleList(
            nn.ModuleList(nn.Embedding(c, hidden) for c in bond_cat_dims) for _ in range(layers))
        self.convs = nn.ModuleList(
            GINEConv(nn.Sequential(nn.Linear(hidden, 2 * hidden), nn.ReLU(), nn.Linear(2 * hidden, hidden)),
                     edge_dim=hidden) for _ in range(layers))
        self.norms = nn.ModuleList(nn.BatchNorm1d(hidden) for _ in range(layers))
        self.head = nn.Linear(hidden, atom_cat_dims[0])

    def forward(self, batch: Any, mask: Tensor) -> Tensor:
        """Scalar cross-entropy of the atom types of the ``mask`` ``[N]`` atoms."""
        x = batch.x
        first = torch.where(mask, torch.full_like(x[:, 0], self.mask_index), x[:, 0])
        h = self.atom_emb[0](first)
        for i in range(1, len(self.atom_emb)):
            h = h + self.atom_emb[i](x[:, i])
        for li, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            e = sum(emb(batch.edge_attr[:, j]) for j, emb in enumerate(self.bond_emb[li]))
            h = norm(conv(h, batch.edge_index, e))
            if li < len(self.convs) - 1:
                h = torch.relu(h)
        return nn.functional.cross_entropy(self.head(h[mask]).float(), x[mask, 0])


def _pyg_batches(records: list[Data], order: Tensor, bs: int, device: torch.device) -> Iterator[Any]:
    from torch_geometric.loader import DataLoader

    loader = DataLoader([records[i] for i in order.tolist()], batch_size=bs, shuffle=False)
    while True:
        for i, b in enumerate(loader):
            b = b.to(device)
            b.graph_index = order[i * bs:(i + 1) * bs].to(device)
            yield b


def _fast_batches(tensors: dict[str, Tensor], order: Tensor, bs: int, device: torch.device) -> Iterator[Any]:
    loader = FastGraphLoader(tensors, batch_size=bs, shuffle=False, device=device, indices=order)
    while True:
        yield from loader


def _time_round(step: Callable[[Any], None], batches: Iterator[Any], steps: int, device: torch.device) -> float:
    """Graphs/s of ``steps`` consecutive steps (loader time included)."""
    if device.type == "cuda":
        torch.cuda.synchronize()
    n_graphs = 0
    t0 = time.perf_counter()
    for _ in range(steps):
        b = next(batches)
        n_graphs += int(b.num_graphs)
        step(b)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return n_graphs / (time.perf_counter() - t0)


def measure_pretrain(n_graphs: int = 2048, batch_size: int = 256, steps: int = 4, hidden: int = 300,
                     device: str = "auto", overrides: list[str] | None = None, data_dir: Path | None = None,
                     profile: bool = False, seed: int = 0, rounds: int = 3) -> dict[str, Any]:
    """Measure both models on both data paths; return a JSON-able result dict.

    Each (model, loader) pair runs 2 warm-up steps, then ``rounds`` interleaved rounds of ``steps`` steps; the
    best round counts.
    """
    dev = resolve_device(device)
    torch.manual_seed(seed)
    root = find_data_dir(data_dir)
    t0 = time.perf_counter()
    smiles = read_smiles(root, n_graphs)
    if len(smiles) < n_graphs:
        raise ValueError(f"{root / MOSES} has only {len(smiles)} rows, asked for {n_graphs}")
    records, spec = _featurize(smiles)
    feat_s = time.perf_counter() - t0
    tensors = records_to_tensors(records)
    n = len(records)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    base = {"encoder.hidden_dim": hidden, "encoder.wgcn_hidden": hidden, "encoder.mlp_hidden": hidden,
            "batch_size": batch_size, "device": str(dev), "bf16": dev.type == "cuda", "max_steps": 10_000,
            "optim.warmup_steps": 0}
    cfg = load_config(PretrainConfig, None, {**base, **parse_overrides(overrides)})
    dims = InputDims.from_spec_dict(spec.to_dict())
    student = HarmonyEncoder(cfg.encoder, dims).to(dev)
    teacher = make_teacher(student)
    predictor, recon_head = build_heads(cfg, student, dims, dev)  # as ``harmony pretrain`` adds them
    params = [p for mod in (student, predictor, recon_head) if mod is not None for p in mod.parameters()]
    opt = torch.optim.AdamW(params, lr=cfg.optim.lr, weight_decay=cfg.optim.weight_decay)
    sched = make_scheduler(opt, 10_000, 0)
    buffer = DifficultyBuffer(tensors["node_ptr"], dev) if cfg.masking.strategy != "random" else None
    ours = SSLStepper(cfg, student, teacher, predictor, opt, sched, dev, 10_000, buffer,
                      torch.Generator().manual_seed(seed), recon_head)
    step_no = itertools.count()

    def our_step(b: Any) -> None:
        # after one pass over the data every graph has a stored difficulty (steady state)
        ours.optim.step(ours.loss(b, next(step_no), warm=False))
        ours.after_update()

    gin = GineMasking(spec.atom_cat_dims, spec.bond_cat_dims, hidden).to(dev)
    gopt = torch.optim.AdamW(gin.parameters(), lr=1e-3)
    ggen = torch.Generator().manual_seed(seed)

    def gin_step(b: Any) -> None:
        gin.train()
        mask = random_mask(b.batch, 0.15, ggen, int(b.num_graphs))
        with autocast(dev, cfg.bf16):
            loss = gin(b, mask)
        gopt.zero_grad(set_to_none=True)
        loss.backward()
        gopt.step()

    # the four (model, loader) pairs are interleaved round by round and each keeps its best round,
    # so load from other processes on a shared machine hits all of them alike
    combos = {}
    for loader_name, make in (("pyg", lambda: _pyg_batches(records, order, batch_size, dev)),
                              ("fast", lambda: _fast_batches(tensors, order, batch_size, dev))):
        for model_name, fn in (("harmony-ssl", our_step), ("gine-attrmask", gin_step)):
            it = make()
            for _ in range(2):  # warm-up
                fn(next(it))
            combos[(model_name, loader_name)] = (fn, it)
    best: dict[tuple[str, str], list[float]] = {key: [] for key in combos}
    for _ in range(rounds):
        for key, (fn, it) in combos.items():
            best[key].append(_time_round(fn, it, steps, dev))
    rows, rate = [], {}
    n_student = sum(p.numel() for p in student.parameters())
    for (model_name, loader_name), rates in best.items():
        r = max(rates)
        rate[(model_name, loader_name)] = round(r, 2)
        rows.append({"model": model_name, "loader": loader_name, "graphs_per_s": round(r, 2),
                     "ms_per_step": round(1000 * batch_size / r, 1),
                     "rounds_graphs_per_s": [round(v, 1) for v in rates]})
        logger.info("%s / %s: %.1f graphs/s (best of %d rounds)", model_name, loader_name, r, rounds)
    result: dict[str, Any] = {
        "device": str(dev), "bf16": bool(cfg.bf16 and dev.type == "cuda"), "n_graphs": n,
        "mean_atoms": round(float(tensors["node_ptr"][-1]) / n, 2), "batch_size": batch_size, "steps": steps,
        "rounds": rounds, "featurize_s": round(feat_s, 2), "rows": rows,
        "ratio": {lo: round(rate[("harmony-ssl", lo)] / rate[("gine-attrmask", lo)], 3) for lo in ("pyg", "fast")},
        "params": {"harmony-ssl (student)": n_student,
                   "harmony-ssl (heads)": sum(p.numel() for p in params) - n_student,
                   "gine-attrmask": sum(p.numel() for p in gin.parameters())},
        "encoder_config": config_to_dict(cfg.encoder), "masking": config_to_dict(cfg.masking),
        "objective": config_to_dict(cfg.objective),
        "hardware": hardware(), "commit": git_commit(),
    }
    if profile:
        result["profile"] = _profile(our_step, _fast_batches(tensors, order, batch_size, dev), dev)
    return result


def _profile(step: Callable[[Any], None], batches: Iterator[Any], dev: torch.device) -> str:
    from torch.profiler import ProfilerActivity, profile

    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if dev.type == "cuda" else [])
    with profile(activities=acts) as prof:
        for _ in range(3):
            step(next(batches))
    key = "cuda_time_total" if dev.type == "cuda" else "cpu_time_total"
    return prof.key_averages().table(sort_by=key, row_limit=20)


def format_report(result: dict[str, Any]) -> str:
    """Human-readable table of :func:`measure_pretrain` output."""
    hw = result["hardware"]
    lines = [
        f"harmony speed pretrain  device={result['device']} bf16={result['bf16']}  "
        f"cpu_count={hw.get('cpu_count')} threads={hw.get('torch_threads')} gpu={hw.get('cuda')}",
        f"data: {result['n_graphs']} MOSES/ZINC molecules (mean {result['mean_atoms']} heavy atoms), "
        f"batch {result['batch_size']}, best of {result['rounds']} interleaved rounds of {result['steps']} steps",
        f"{'model':<16}{'loader':<8}{'graphs/s':>12}{'ms/step':>10}",
    ]
    for r in result["rows"]:
        lines.append(f"{r['model']:<16}{r['loader']:<8}{r['graphs_per_s']:>12.1f}{r['ms_per_step']:>10.1f}")
    lines.append("ours / GINE: " + ", ".join(f"{k} loader {v:.2f}x" for k, v in result["ratio"].items()))
    lines.append("params: " + ", ".join(f"{k} {v / 1e6:.2f}M" for k, v in result["params"].items()))
    e = result["encoder_config"]
    lines.append(f"our encoder: hidden {e['hidden_dim']}, hops {e['hops']}, ffn_ratio {e['ffn_ratio']}, "
                 f"readout {e['readout']}, edge_gate {e['edge_gate']}; masking {result['masking']['strategy']}"
                 f"/{result['masking']['difficulty_source']}")
    if "profile" in result:
        lines.append(result["profile"])
    return "\n".join(lines)
