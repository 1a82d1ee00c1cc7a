"""Batch loaders: a vectorised one (``FastGraphLoader``) and a plain seeded PyG ``DataLoader``.

``FastGraphLoader`` collates straight from :meth:`GraphDataset.tensors` with a handful of tensor
ops per batch (no per-graph Python), optionally with every tensor living on the GPU. Its batches
are ``torch_geometric.data.Batch`` objects equal to ``Batch.from_data_list`` on the same graphs,
plus ``graph_index`` (the dataset indices of the graphs in the batch).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import torch
from torch_geometric.data import Batch


def _classify(tensors: dict[str, torch.Tensor]) -> dict[str, str]:
    g = tensors["node_ptr"].numel() - 1
    n, e = int(tensors["node_ptr"][-1]), int(tensors["edge_ptr"][-1])
    levels = {}
    for k, t in tensors.items():
        if k in ("node_ptr", "edge_ptr", "edge_index"):
            continue
        if k in ("x", "x_feat", "pos") or k.startswith("node_"):
            levels[k] = "node"
        elif k.startswith("edge_"):
            levels[k] = "edge"
        elif k in ("y", "row_id") or t.size(0) == g:
            levels[k] = "graph"
        elif t.size(0) == n:
            levels[k] = "node"
        elif t.size(0) == e:
            levels[k] = "edge"
    return levels


class FastGraphLoader:
    """Iterate vectorised-collated batches of graphs.

    Args:
        source: A ``GraphDataset`` (its ``tensors()`` are used) or the tensor dict itself.
        batch_size: Graphs per batch.
        shuffle: Shuffle with a seeded per-epoch permutation (``seed + epoch``).
        seed: Base seed of the permutation.
        device: Move every tensor there once and collate there (e.g. ``"cuda"``).
        indices: Subset of dataset indices (e.g. a split's train list), in this order when not shuffled.
        drop_last: Drop the last incomplete batch.

    The epoch advances by one after each full pass; :meth:`set_epoch` sets it (and ``start_batch``
    to resume mid-epoch exactly where a run stopped).
    """

    def __init__(self, source: Any, batch_size: int, shuffle: bool = False, seed: int = 0,
                 device: str | torch.device | None = None, indices: Sequence[int] | torch.Tensor | None = None,
                 drop_last: bool = False) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        tensors = source.tensors() if hasattr(source, "tensors") else dict(source)
        missing = [k for k in ("x", "edge_index", "node_ptr", "edge_ptr") if k not in tensors]
        if missing:
            raise ValueError(f"tensor dict lacks {missing}")
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        self.levels = _classify(tensors)
        self.t = {k: v.to(self.device) for k, v in tensors.items()}
        n_graphs = self.t["node_ptr"].numel() - 1
        if indices is None:
            self.indices = torch.arange(n_graphs, dtype=torch.long)
        else:
            self.indices = torch.as_tensor(indices, dtype=torch.long).reshape(-1).cpu()
            if self.indices.numel() and (int(self.indices.min()) < 0 or int(self.indices.max()) >= n_graphs):
                raise ValueError(f"indices outside [0, {n_graphs})")
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.seed = int(seed)
        self.drop_last = drop_last
        self.epoch = 0
        self.start_batch = 0

    def set_epoch(self, epoch: int, start_batch: int = 0) -> None:
        """Choose the permutation of the next pass and the batch to start from."""
        self.epoch = int(epoch)
        self.start_batch = int(start_batch)

    def __len__(self) -> int:
        n = self.indices.numel()
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[Batch]:
        order = self.indices
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed + self.epoch)
            order = self.indices[torch.randperm(self.indices.numel(), generator=g)]
        order = order.to(self.device)
        start, self.start_batch = self.start_batch, 0
        for b in range(start, len(self)):
            yield self.collate(order[b * self.batch_size:(b + 1) * self.batch_size])
        self.epoch += 1

    def collate(self, idx: torch.Tensor) -> Batch:
        """Build one batch from dataset indices ``idx`` (on ``self.device``).

        Shapes:
            idx ``[B]`` -> x ``[N_b, Cx]``, edge_index ``[2, E_b]`` (batch-global ids), batch ``[N_b]``,
            ptr ``[B+1]``, y ``[B, T]``, row_id ``[B]``, graph_index ``[B]``.
        """
        t = self.t
        idx = idx.to(self.device)
        b = idx.numel()
        n0, n_cnt = t["node_ptr"][idx], t["node_ptr"][idx + 1] - t["node_ptr"][idx]
        e0, e_cnt = t["edge_ptr"][idx], t["edge_ptr"][idx + 1] - t["edge_ptr"][idx]
        zero = torch.zeros(1, dtype=torch.long, device=self.device)
        ptr = torch.cat([zero, n_cnt.cumsum(0)])
        eptr = torch.cat([zero, e_cnt.cumsum(0)])
        n_tot, e_tot = int(ptr[-1]), int(eptr[-1])
        ar = torch.arange(b, device=self.device)
        batch = torch.repeat_interleave(ar, n_cnt, output_size=n_tot)
        ebatch = torch.repeat_interleave(ar, e_cnt, output_size=e_tot)
        node_idx = torch.arange(n_tot, device=self.device) - ptr[batch] + n0[batch]
        edge_idx = torch.arange(e_tot, device=self.device) - eptr[ebatch] + e0[ebatch]
        out: dict[str, Any] = {"edge_index": t["edge_index"][:, edge_idx] + ptr[ebatch].unsqueeze(0),
                               "batch": batch, "ptr": ptr}
        for k, level in self.levels.items():
            out[k] = t[k][node_idx] if level == "node" else t[k][edge_idx] if level == "edge" else t[k][idx]
        data = Batch(**out)
        data.graph_index = idx
        data._num_graphs = b
        data._slice_dict = {k: (ptr if lv == "node" else eptr if lv == "edge" else
                                torch.arange(b + 1, device=self.device)) for k, lv in self.levels.items()}
        data._slice_dict["edge_index"] = eptr
        no_inc = torch.zeros(b, dtype=torch.long, device=self.device)
        data._inc_dict = {k: no_inc for k in self.levels}
        data._inc_dict["edge_index"] = ptr[:-1]
        return data


def make_pyg_loader(dataset: Any, batch_size: int, shuffle: bool = False, seed: int = 0,
                    indices: Sequence[int] | None = None) -> Any:
    """A PyG ``DataLoader`` over ``dataset`` (or its subset ``indices``) shuffled by a seeded generator."""
    from torch.utils.data import Subset
    from torch_geometric.loader import DataLoader

    ds = Subset(dataset, list(indices)) if indices is not None else dataset
    return DataLoader(ds, batch_size=batch_size, shuffle=shuffle, generator=torch.Generator().manual_seed(int(seed)))
