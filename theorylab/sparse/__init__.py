"""Sparse training: masked MLPs trained for many seeds and controls at once, magnitude pruning.

The foundation of the sparsity claims (lottery tickets, supermasks, pruning at initialisation).
One concept per module:

- :mod:`~theorylab.sparse.masked_mlp`: a population of P fully connected ReLU networks with
  per-layer masks, stored stacked (weights ``(P, out, in)``), evaluated with one batched
  matmul per layer; Glorot-normal initialisation from named seeded streams; narrower networks
  embedded in a wider stack by structural masks.
- :mod:`~theorylab.sparse.datasets`: scikit-learn's digits and MNIST-1D with seeded
  train / validation / test splits, standardised by the training split; per-seed data orders.
- :mod:`~theorylab.sparse.training`: Adam or SGD on the whole population at once (both are
  elementwise, so one optimiser over stacked tensors is exactly one optimiser per network),
  validation loss every few steps, early-stopping iteration = step of minimum validation loss.
- :mod:`~theorylab.sparse.pruning`: iterative magnitude pruning per layer (or global), resetting
  to theta_0, rewinding to theta_k, random re-initialisation and random masks of equal per-layer
  counts.
- :mod:`~theorylab.sparse.interpolation`: error along the segment between two trained copies and
  the linear-mode-connectivity barrier.
- :mod:`~theorylab.sparse.stats`: paired differences over seeds with Student-t intervals.

docs/sparse.md describes the design and why digits and MNIST-1D stand in for MNIST.
"""
