"""The model layer: which encoders exist, the property model around them, and the files they live in.

- ``registry.py``: the encoder registry, the typed :data:`~harmony_mol.models.registry.EncoderConfig`
  union and the one ``build_encoder``.
- ``property_model.py``: encoder -> read-out -> head (:class:`~harmony_mol.models.property_model.PropertyModel`).
- ``scaler.py``: the per-task target standardisation a bundle stores.
- ``io.py``: encoder checkpoints and model bundles (``torch.load(weights_only=True)``, shape checks).
- ``meta.py``: building on the ``meta`` device to check declared sizes without allocating.
"""
