"""Screening-grade inference: ``Predictor.load(path).predict([...])`` and streaming file prediction.

Predictions keep one row per input, in input order; inputs that cannot be featurized get NaN and
their reason in the ``error`` column. Predictions go to ``<target>_pred`` (chemprop's convention), so
an input column named like the target is never overwritten; ensembles (several bundles, or a bundle
with several members) give the member mean as ``<target>_pred`` and the spread as ``<target>_std``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
import torch

from harmony_mol.models.io import BundleError, ModelBundle, load_bundle, merge_bundles
from harmony_mol.finetune.evaluate import outputs_to_predictions
from harmony_mol.finetune.infer import FeaturizedChunk, block_to_tensors, featurize_stream, run_models
from harmony_mol.models.property_model import PropertyModel

logger = logging.getLogger(__name__)


def check_spec_reproducible(spec: dict[str, Any]) -> None:
    """Raise :class:`BundleError` unless this installation's featurizers produce exactly ``spec``."""
    from featurizers.schema import FeaturizerSpec

    want = FeaturizerSpec.from_dict(spec)
    opts = dict(want.options)
    try:
        if want.kind == "molecule":
            from featurizers.molecule import molecule_spec

            kw = {k: opts[k] for k in ("max_atoms",) if k in opts}
            have = molecule_spec(want.preset, **kw)
        elif want.kind == "crystal":
            from featurizers.crystal import crystal_spec

            names = ("cutoff", "max_neighbors", "n_gaussians", "max_atoms", "max_volume_per_atom")
            have = crystal_spec(**{k: opts[k] for k in names if k in opts})
        else:
            raise BundleError(f"models on {want.kind!r} graphs cannot predict from files (node-level tasks)")
    except BundleError:
        raise
    except Exception as exc:  # noqa: BLE001 - unknown preset / option from another release
        raise BundleError(f"this installation cannot build the model's featurizer {want.to_dict()}: {exc}") from exc
    if have.key() != want.key():
        raise BundleError(
            f"the model was trained on features {want.to_dict()} but this installation produces "
            f"{have.to_dict()} (featurizer version or options differ); re-train or install the matching release"
        )


class Predictor:
    """Run a model bundle (or an ensemble of bundles) on raw inputs.

    Args:
        bundle: The (merged) bundle.
        device: ``cpu``, ``cuda`` or ``auto``.
        batch_size: Graphs per inference batch.
        workers: Featurizing processes (1 = in-process).
        threads: ``torch.set_num_threads`` for inference (``None`` = leave as is). On small CPUs 1 is
            usually fastest: the graph ops of small molecules do not parallelise well, and the
            featurizing workers need the other cores.
    """

    def __init__(self, bundle: ModelBundle, device: str = "cpu", batch_size: int = 512, workers: int = 1,
                 threads: int | None = None) -> None:
        from harmony_mol.trainer import resolve_device

        if threads is not None and threads > 0:
            torch.set_num_threads(int(threads))

        check_spec_reproducible(bundle.featurizer_spec)
        self.bundle = bundle
        self.device = resolve_device(device)
        self.batch_size = int(batch_size)
        self.workers = int(workers)
        self.members: list[PropertyModel] = [m.to(self.device).eval() for m in bundle.build_members()]
        self.target_names = list(bundle.target_names)

    @classmethod
    def load(cls, paths: str | Path | Sequence[str | Path], **kwargs: Any) -> Predictor:
        """Load one bundle, or several (merged into one ensemble)."""
        plist = [paths] if isinstance(paths, (str, Path)) else list(paths)
        if not plist:
            raise BundleError("no model bundle given")
        return cls(merge_bundles([load_bundle(p) for p in plist]), **kwargs)

    @property
    def kind(self) -> str:
        return str(self.bundle.featurizer_spec["kind"])

    @property
    def is_ensemble(self) -> bool:
        return len(self.members) > 1

    # ------------------------------------------------------------------ core
    def _predict_tensors(self, tensors: dict[str, torch.Tensor]) -> tuple[np.ndarray, np.ndarray]:
        """Mean and std over members, ``[G, T]`` each, in original units / probabilities."""
        preds = []
        for member, m in zip(self.members, self.bundle.members):
            def fn(batch: Any, model: PropertyModel = member, sc: Any = m.scaler) -> torch.Tensor:
                return outputs_to_predictions(model(batch), self.bundle.task_type, sc)

            preds.append(run_models(fn, tensors, self.batch_size, self.device).double())
        stack = torch.stack(preds)
        std = stack.std(dim=0, unbiased=False) if len(preds) > 1 else torch.zeros_like(stack[0])
        return stack.mean(dim=0).numpy(), std.numpy()

    def _embed_tensors(self, tensors: dict[str, torch.Tensor]) -> np.ndarray:
        """Pooled graph embeddings of the first member, ``[G, D]``."""
        return run_models(self.members[0].embed, tensors, self.batch_size, self.device).numpy()

    def predict_chunk(self, ch: FeaturizedChunk) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Per-input arrays ``[n, T]`` (NaN for failed rows) and the error column for one chunk."""
        t = len(self.target_names)
        mean = np.full((ch.n, t), np.nan)
        std = np.full((ch.n, t), np.nan)
        if ch.ok:
            mu, sd = self._predict_tensors(block_to_tensors(ch.block))
            mean[ch.ok], std[ch.ok] = mu, sd
        errors = [ch.errors.get(i, "") for i in range(ch.n)]
        return mean, std, errors

    def embed_chunk(self, ch: FeaturizedChunk) -> tuple[np.ndarray, list[str]]:
        """Embeddings ``[n, D]`` (NaN rows for failures) and the error column for one chunk."""
        dim = self.members[0].readout.out_dim
        emb = np.full((ch.n, dim), np.nan, dtype=np.float32)
        if ch.ok:
            emb[ch.ok] = self._embed_tensors(block_to_tensors(ch.block))
        return emb, [ch.errors.get(i, "") for i in range(ch.n)]

    def chunks(self, payloads: Sequence[Any], chunk_size: int = 4096) -> Any:
        """Featurized chunks of ``payloads`` (in order)."""
        it = (payloads[i:i + chunk_size] for i in range(0, len(payloads), chunk_size))
        return featurize_stream(it, self.bundle.featurizer_spec, self.workers)

    # ------------------------------------------------------------------ Python API
    def predict(self, inputs: Sequence[Any]) -> pd.DataFrame:
        """Predict SMILES strings (molecule models) or pymatgen Structures (crystal models).

        Returns:
            One row per input, same order: ``input``, ``<target>_pred`` per target (probability for
            classification), ``<target>_std`` for ensembles, and ``error`` ("" when fine).
        """
        if self.bundle.task_type == "embedding":
            raise BundleError("this predictor wraps a bare encoder checkpoint: it can embed, not predict")
        inputs = list(inputs)
        means, stds, errs = [], [], []
        for ch in self.chunks(inputs):
            m, s, e = self.predict_chunk(ch)
            means.append(m)
            stds.append(s)
            errs += e
        return self.frame(inputs, means, stds, errs)

    def embed(self, inputs: Sequence[Any]) -> tuple[np.ndarray, list[str]]:
        """Graph embeddings ``[n, D]`` (NaN rows for failures) and per-row error strings."""
        inputs = list(inputs)
        embs, errs = [], []
        for ch in self.chunks(inputs):
            e, r = self.embed_chunk(ch)
            embs.append(e)
            errs += r
        dim = self.members[0].readout.out_dim
        return (np.concatenate(embs) if embs else np.zeros((0, dim), np.float32)), errs

    def frame(self, inputs: Sequence[Any], means: list[np.ndarray], stds: list[np.ndarray],
              errs: list[str]) -> pd.DataFrame:
        """Assemble the output DataFrame."""
        t = len(self.target_names)
        mean = np.concatenate(means) if means else np.zeros((0, t))
        std = np.concatenate(stds) if stds else np.zeros((0, t))
        df = pd.DataFrame({"input": [x if isinstance(x, str) else getattr(x, "formula", str(x)) for x in inputs]})
        for k, name in enumerate(self.target_names):
            df[f"{name}_pred"] = mean[:, k]
            if self.is_ensemble:
                df[f"{name}_std"] = std[:, k]
        df["error"] = errs
        return df

    # ------------------------------------------------------------------ files
    def predict_file(self, input_path: str | Path, output_path: str | Path, **kwargs: Any) -> Any:
        """Stream a file into a predictions CSV (see :func:`harmony_mol.finetune.stream.predict_file`)."""
        if self.bundle.task_type == "embedding":
            raise BundleError("this predictor wraps a bare encoder checkpoint: it can embed, not predict")
        from harmony_mol.finetune.stream import predict_file

        return predict_file(self, input_path, output_path, **kwargs)

    def embed_file(self, input_path: str | Path, output_path: str | Path, **kwargs: Any) -> Any:
        """Stream a file into graph embeddings (see :func:`harmony_mol.finetune.stream.embed_file`)."""
        from harmony_mol.finetune.stream import embed_file

        return embed_file(self, input_path, output_path, **kwargs)

    @classmethod
    def from_encoder(cls, checkpoint: str | Path, which: str = "student", readout: str = "mean",
                     **kwargs: Any) -> Predictor:
        """An embedding-only predictor around a pretrained encoder checkpoint (pooled with ``readout``)."""
        from harmony_mol.models.io import BundleMember, load_encoder
        from harmony_mol.models.property_model import build_model
        from harmony_mol.models.scaler import TargetScaler

        enc, meta = load_encoder(checkpoint, which=which)
        model = build_model(enc, 1, readout, {"num_layers": 1})
        member = ModelBundle.member_from_model(model, TargetScaler.identity(1), 0, {}, {})
        bundle = ModelBundle(
            encoder_config=dict(meta["encoder_config"]), input_dims=dict(meta["input_dims"]),
            featurizer_spec=dict(meta["featurizer_spec"]), readout=readout, head_config={"num_layers": 1},
            task_type="embedding", target_names=["unused"], members=[member],
        )
        return cls(bundle, **kwargs)
