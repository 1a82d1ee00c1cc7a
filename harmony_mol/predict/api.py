"""Screening-grade inference: ``Predictor.load(path).predict([...])`` and streaming file prediction.

Predictions keep one row per input, in input order; inputs that cannot be featurized get NaN and
their reason in the ``error`` column. Predictions go to ``<target>_pred`` (chemprop's convention), so
an input column named like the target is never overwritten; ensembles (several bundles, or a bundle
with several members) give the member mean as ``<target>_pred`` and the spread as ``<target>_std``.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from featurizers.batch import GraphChunk, featurize_many
from featurizers.items import RawItem
from featurizers.schema import FeaturizerSpec
from harmony_mol.data.loaders import FastGraphLoader
from harmony_mol.finetune.evaluate import outputs_to_predictions
from harmony_mol.models.io import BundleError, ModelBundle, load_bundle, load_encoder, merge_bundles
from harmony_mol.models.property_model import build_model
from harmony_mol.models.scaler import TargetScaler
from harmony_mol.predict import files
from harmony_mol.predict.files import StreamStats
from harmony_mol.utils.io import atomic_open

logger = logging.getLogger(__name__)


def check_spec_reproducible(spec: dict[str, Any]) -> None:
    """Raise :class:`BundleError` unless this installation's featurizers produce exactly ``spec``."""
    want = FeaturizerSpec.from_dict(spec)
    if want.kind not in ("molecule", "crystal"):
        raise BundleError(f"models on {want.kind!r} graphs cannot predict from files (node-level tasks)")
    opts = dict(want.options)
    try:
        if want.kind == "molecule":
            from featurizers.molecule import molecule_spec

            have = molecule_spec(want.preset, **{k: opts[k] for k in ("max_atoms",) if k in opts})
        else:
            from featurizers.crystal import crystal_spec

            names = ("cutoff", "max_neighbors", "n_gaussians", "max_atoms", "max_volume_per_atom")
            have = crystal_spec(**{k: opts[k] for k in names if k in opts})
    except Exception as exc:  # unknown preset / option from another release
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
        self.spec = FeaturizerSpec.from_dict(bundle.featurizer_spec)
        self.device = resolve_device(device)
        self.batch_size = int(batch_size)
        self.workers = int(workers)
        self.members = [bundle.build_member(i).to(self.device) for i in range(len(bundle.members))]
        self.target_names = list(bundle.target_names)

    @classmethod
    def load(cls, paths: str | Path | Sequence[str | Path], device: str = "cpu", batch_size: int = 512,
             workers: int = 1, threads: int | None = None) -> Predictor:
        """Load one bundle, or several (merged into one ensemble); the other arguments as for the class."""
        plist = [paths] if isinstance(paths, (str, Path)) else list(paths)
        if not plist:
            raise BundleError("no model bundle given")
        return cls(merge_bundles([load_bundle(p) for p in plist]), device, batch_size, workers, threads)

    @property
    def is_ensemble(self) -> bool:
        """Whether there are several members (then ``<target>_std`` columns are written)."""
        return len(self.members) > 1

    def featurize(self, payload_chunks: Iterable[Sequence[Any]]) -> Iterator[GraphChunk]:
        """Featurized chunks of SMILES strings / structures (rows numbered across chunks), in order."""

        def items() -> Iterator[list[RawItem]]:
            row0 = 0
            for chunk in payload_chunks:
                yield [RawItem(row0 + i, str(row0 + i), p, ()) for i, p in enumerate(chunk)]
                row0 += len(chunk)

        return featurize_many(items(), self.spec, self.workers)

    @torch.no_grad()
    def _run(self, fn: Callable[[Any], torch.Tensor], tensors: dict[str, torch.Tensor]) -> torch.Tensor:
        """``fn(batch) -> [B, K]`` over every graph of ``tensors`` in order; ``[G, K]`` on the CPU."""
        outs = [fn(b).float().cpu() for b in FastGraphLoader(tensors, self.batch_size, device=self.device)]
        return torch.cat(outs) if outs else torch.zeros(0, 0)

    def predict_graphs(self, graphs: GraphChunk) -> tuple[np.ndarray, np.ndarray]:
        """Member mean and spread ``[graphs.n, T]`` (float64, original units / probabilities; NaN for failed items)."""
        t = len(self.target_names)
        mean, std = np.full((graphs.n, t), np.nan), np.full((graphs.n, t), np.nan)
        if not graphs.kept:
            return mean, std
        tensors = graphs.tensors()
        preds = []
        for model, m in zip(self.members, self.bundle.members):  # _run calls the lambda before the next member
            preds.append(self._run(lambda b: outputs_to_predictions(model(b), self.bundle.task_type, m.scaler),
                                   tensors).double())
        stack = torch.stack(preds)
        spread = stack.std(dim=0, unbiased=False) if len(preds) > 1 else torch.zeros_like(stack[0])
        mean[graphs.kept], std[graphs.kept] = stack.mean(dim=0).numpy(), spread.numpy()
        return mean, std

    def embed_graphs(self, graphs: GraphChunk) -> np.ndarray:
        """Pooled graph embeddings ``[graphs.n, D]`` (float32) of the first member; NaN rows for failed items."""
        emb = np.full((graphs.n, self.members[0].readout.out_dim), np.nan, dtype=np.float32)
        if graphs.kept:
            emb[graphs.kept] = self._run(self.members[0].embed, graphs.tensors()).numpy()
        return emb

    def columns(self, mean: np.ndarray, std: np.ndarray) -> dict[str, np.ndarray]:
        """The prediction columns: ``<target>_pred`` (and ``<target>_std`` for ensembles) per target."""
        cols = {}
        for k, name in enumerate(self.target_names):
            cols[f"{name}_pred"] = mean[:, k]
            if self.is_ensemble:
                cols[f"{name}_std"] = std[:, k]
        return cols

    def _check_can_predict(self) -> None:
        if self.bundle.task_type == "embedding":
            raise BundleError("this predictor wraps a bare encoder checkpoint: it can embed, not predict")

    def predict(self, inputs: Sequence[Any]) -> pd.DataFrame:
        """Predict SMILES strings (molecule models) or pymatgen Structures (crystal models).

        Returns:
            One row per input, same order: ``input``, ``<target>_pred`` per target (probability for
            classification), ``<target>_std`` for ensembles, and ``error`` ("" when fine).
        """
        self._check_can_predict()
        inputs = list(inputs)
        t = len(self.target_names)
        means, stds, errs = [np.zeros((0, t))], [np.zeros((0, t))], []
        for graphs in self.featurize(inputs[i:i + 4096] for i in range(0, len(inputs), 4096)):
            mean, std = self.predict_graphs(graphs)
            means.append(mean)
            stds.append(std)
            errs += graphs.reasons()
        shown = [x if isinstance(x, str) else getattr(x, "formula", str(x)) for x in inputs]
        return pd.DataFrame({"input": shown, **self.columns(np.concatenate(means), np.concatenate(stds)),
                             "error": errs})

    def _stream(self, src: Path, smiles_column: str | None, cif_column: str | None, chunk_size: int,
                progress: bool | None, desc: str) -> Iterator[tuple[pd.DataFrame, GraphChunk]]:
        """``(columns to echo, featurized chunk)`` per chunk of ``src``, with a progress bar."""
        bar = files.progress_bar(progress, src, self.spec.kind, desc)
        frames: deque[pd.DataFrame] = deque()  # the chunks featurize has taken, in order

        def payloads() -> Iterator[list[Any]]:
            for df, chunk in files.iter_input_frames(src, self.spec.kind, smiles_column, chunk_size, cif_column):
                frames.append(df)
                yield chunk

        try:
            for graphs in self.featurize(payloads()):
                df = frames.popleft()
                yield df, graphs
                bar.update(len(df))
        finally:
            bar.close()

    def predict_file(self, input_path: str | Path, output_path: str | Path, smiles_column: str | None = None,
                     cif_column: str | None = None, chunk_size: int = 8192,
                     progress: bool | None = None) -> StreamStats:
        """Stream ``input_path`` into a CSV of its columns, the prediction columns and ``error``.

        Input formats: ``harmony_mol/predict/files.py``. Memory is bounded by ``chunk_size`` rows (times the
        featurizing pool's in-flight chunks).
        """
        self._check_can_predict()
        t0 = time.perf_counter()
        src, out = Path(input_path), Path(output_path)
        files.check_paths(src, out)
        n_rows = n_failed = 0
        header = True
        with atomic_open(out, "w", encoding="utf-8", newline="") as fh:
            for df, graphs in self._stream(src, smiles_column, cif_column, chunk_size, progress, "predict"):
                errs = graphs.reasons()
                cols = {**self.columns(*self.predict_graphs(graphs)), "error": errs}
                if header:
                    files.check_no_clash(list(df.columns), list(cols), src)
                df.assign(**cols).to_csv(fh, header=header, index=False, lineterminator=files.CSV_LINE_END)
                header = False
                n_rows += len(df)
                n_failed += sum(1 for e in errs if e)
        stats = StreamStats(out, n_rows, n_failed, time.perf_counter() - t0)
        logger.info("predicted %d rows (%d failed to featurize) into %s in %.1f s (%.0f rows/s)",
                    n_rows, n_failed, out, stats.seconds, stats.rows_per_s)
        return stats

    def embed_file(self, input_path: str | Path, output_path: str | Path, smiles_column: str | None = None,
                   cif_column: str | None = None, chunk_size: int = 8192,
                   progress: bool | None = None) -> StreamStats:
        """Graph embeddings of every input row, written by :func:`~harmony_mol.predict.files.write_embeddings`."""
        t0 = time.perf_counter()
        src, out = Path(input_path), Path(output_path)
        files.check_embedding_suffix(out)
        files.check_paths(src, out)
        embs = [np.zeros((0, self.members[0].readout.out_dim), np.float32)]
        metas = [pd.DataFrame({"error": []})]
        for df, graphs in self._stream(src, smiles_column, cif_column, chunk_size, progress, "embed"):
            embs.append(self.embed_graphs(graphs))
            metas.append(df.assign(error=graphs.reasons()))
        emb = np.concatenate(embs)
        meta = pd.concat(metas[1:], ignore_index=True) if len(metas) > 1 else metas[0]
        files.write_embeddings(out, emb, meta)
        n_failed = int((meta["error"] != "").sum())
        stats = StreamStats(out, len(meta), n_failed, time.perf_counter() - t0)
        logger.info("embedded %d rows (%d failed) into %s (%d dims) in %.1f s", stats.n_rows, n_failed, out,
                    emb.shape[1], stats.seconds)
        return stats

    @classmethod
    def from_encoder(cls, checkpoint: str | Path, which: str = "student", readout: str = "mean", device: str = "cpu",
                     batch_size: int = 512, workers: int = 1, threads: int | None = None) -> Predictor:
        """An embedding-only predictor around an encoder checkpoint, pooled with ``readout``."""
        enc, meta = load_encoder(checkpoint, which=which)
        model = build_model(enc, 1, readout, {"num_layers": 1})
        member = ModelBundle.member_from_model(model, TargetScaler.identity(1), 0, {}, {})
        bundle = ModelBundle(
            encoder_config=dict(meta["encoder_config"]), input_dims=dict(meta["input_dims"]),
            featurizer_spec=dict(meta["featurizer_spec"]), readout=readout, head_config={"num_layers": 1},
            task_type="embedding", target_names=["unused"], members=[member],
        )
        return cls(bundle, device, batch_size, workers, threads)
