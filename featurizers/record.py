"""Turn the compact numpy arrays of a featurizer into a :class:`torch_geometric.data.Data` record."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch_geometric.data import Data

#: Contract dtype of every field a ``*_np`` featurizer returns (see :mod:`featurizers.schema`).
_DTYPES = {"x": np.int64, "x_feat": np.float32, "edge_index": np.int64, "edge_attr": np.int64,
           "edge_feat": np.float32, "edge_dist": np.float32, "edge_vec": np.float32}


def arrays_to_data(arrays: Mapping[str, np.ndarray], y: Sequence[float | None] | None, row_id: int) -> Data:
    """Build the graph record of :mod:`featurizers.schema` from featurizer arrays, casting to its dtypes.

    Args:
        arrays: Output of a ``featurize_*_np`` function.
        y: Targets (``None`` = no targets, ``T = 0``; NaN/None = missing).
        row_id: 0-based input index.
    """
    def cast(key: str) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(arrays[key], dtype=_DTYPES[key]))

    ys = [] if y is None else [math.nan if v is None else float(v) for v in y]
    data = Data(x=cast("x"), x_feat=cast("x_feat"), edge_index=cast("edge_index"), edge_attr=cast("edge_attr"),
                edge_feat=cast("edge_feat"), y=torch.tensor(ys, dtype=torch.float32).reshape(1, len(ys)),
                row_id=torch.tensor([int(row_id)], dtype=torch.long))
    data.num_nodes = int(arrays["x"].shape[0])
    for extra in ("edge_dist", "edge_vec"):
        if extra in arrays:
            data[extra] = cast(extra)
    return data
