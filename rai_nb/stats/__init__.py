"""Array kernels for statistics: arrays in, arrays out; no pandas, widgets or plotting."""
