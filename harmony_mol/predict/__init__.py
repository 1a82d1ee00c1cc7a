"""Screening-grade inference: :class:`~harmony_mol.predict.api.Predictor` (``api.py``) and its
streaming file input and output (``files.py``)."""
