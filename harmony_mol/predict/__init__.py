"""Screening-grade inference: :class:`~harmony_mol.predict.api.Predictor` and its file I/O (``files.py``)."""
