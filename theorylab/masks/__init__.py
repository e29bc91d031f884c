"""Mask scores and selection for sparse networks: which weights to keep.

- :mod:`~theorylab.masks.topk`: keep the largest scores per layer (or globally), batched over
  leading dimensions (seeds, criteria); the straight-through top-k of edge-popup.
- :mod:`~theorylab.masks.criteria`: the mask criteria of Zhou, Lan, Liu, Yosinski (NeurIPS
  2019) from initial and final weights.
- :mod:`~theorylab.masks.saliency`: pruning at initialisation from one batch: SNIP (Lee,
  Ajanthan, Torr, ICLR 2019) and GraSP (Wang, Zhang, Grosse, ICLR 2020).

Everything here works on lists of weight tensors with a common leading batch shape, so many
seeds (and criteria) are scored in one call. Sparsity is the fraction of weights *kept*.
"""
