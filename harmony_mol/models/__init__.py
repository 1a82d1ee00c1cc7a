"""The model layer: encoder registry, property model, target scaler, checkpoint and bundle files."""
