// Fusion pass.
