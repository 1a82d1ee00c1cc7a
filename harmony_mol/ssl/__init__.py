"""Self-supervised pretraining: masking, EMA teacher, latent-prediction objective and the loop."""
