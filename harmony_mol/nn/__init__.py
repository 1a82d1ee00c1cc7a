"""Pure torch/PyG model modules: the HarmonyGNN encoder and its parts (input dims are passed in)."""
