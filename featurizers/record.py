"""Turn the compact numpy arrays of a featurizer into a :class:`torch_geometric.data.Data` record."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch_geometric.data import Data

#: Keys every ``*_np`` featurizer returns (crystals add ``edge_dist`` and ``edge_vec``).
ARRAY_KEYS = ("x", "x_feat", "edge_index", "edge_attr", "edge_feat")


def targets_tensor(y: Sequence[float | None] | None) -> torch.Tensor:
    """Targets as a float32 ``[1, T]`` tensor; ``None`` or non-finite strings become NaN.

    Shapes:
        output: ``[1, T]`` (``T = 0`` when ``y`` is ``None``).
    """
    if y is None:
        return torch.empty((1, 0), dtype=torch.float32)
    vals = [math.nan if v is None else float(v) for v in y]
    return torch.tensor(vals, dtype=torch.float32).reshape(1, len(vals))


def arrays_to_data(arrays: Mapping[str, np.ndarray], y: Sequence[float | None] | None, row_id: int) -> Data:
    """Build the graph record from featurizer arrays, casting to the contract dtypes.

    Args:
        arrays: Output of a ``featurize_*_np`` function.
        y: Targets (``None`` = no targets, NaN/None = missing).
        row_id: 0-based input index.

    Shapes:
        x ``[N, C_atom]`` int64, x_feat ``[N, F_atom]`` float32, edge_index ``[2, E]`` int64,
        edge_attr ``[E, C_bond]`` int64, edge_feat ``[E, F_edge]`` float32, y ``[1, T]``, row_id ``[1]``;
        optional edge_dist ``[E]`` and edge_vec ``[E, 3]`` float32.
    """
    data = Data(
        x=torch.from_numpy(np.ascontiguousarray(arrays["x"], dtype=np.int64)),
        x_feat=torch.from_numpy(np.ascontiguousarray(arrays["x_feat"], dtype=np.float32)),
        edge_index=torch.from_numpy(np.ascontiguousarray(arrays["edge_index"], dtype=np.int64)),
        edge_attr=torch.from_numpy(np.ascontiguousarray(arrays["edge_attr"], dtype=np.int64)),
        edge_feat=torch.from_numpy(np.ascontiguousarray(arrays["edge_feat"], dtype=np.float32)),
        y=targets_tensor(y),
        row_id=torch.tensor([int(row_id)], dtype=torch.long),
    )
    data.num_nodes = int(arrays["x"].shape[0])
    for extra in ("edge_dist", "edge_vec"):
        if extra in arrays:
            data[extra] = torch.from_numpy(np.ascontiguousarray(arrays[extra], dtype=np.float32))
    return data
