"""Functional network definitions, one family per module (torch.func friendly).

- :mod:`.two_layer`: Du et al.'s two-layer ReLU net with explicit parameterization, and the
  :class:`NeuronBank` that trains a width ladder x initialisations as one matrix.
- :mod:`.mlp`: smooth-activation MLPs as functions of a flat parameter vector, with
  Hessian-vector products (sgd_stability).
- :mod:`.shallow`: one-hidden-layer leaky-ReLU net with fixed multiplicative noise, smooth
  pyramidal nets, the teacher-student ReLU net (no_bad_minima).
"""

from .two_layer import PARAMETERIZATIONS, NeuronBank, output_scale, two_layer

__all__ = ["PARAMETERIZATIONS", "NeuronBank", "output_scale", "two_layer"]
