"""Functional network definitions, one family per module (torch.func friendly).

- :mod:`.two_layer`: Du et al.'s two-layer ReLU net with explicit parameterization, and the
  :class:`NeuronBank` that trains a width ladder x initialisations as one matrix.
"""

from .two_layer import PARAMETERIZATIONS, NeuronBank, output_scale, two_layer

__all__ = ["PARAMETERIZATIONS", "NeuronBank", "output_scale", "two_layer"]
