"""Small shared helpers: atomic file writes, hashing, seeding, CLI logging, hardware/provenance."""
