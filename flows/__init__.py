"""Prefect flows: thin adapters over harmony_mol / featurizers library calls."""
