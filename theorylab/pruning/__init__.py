"""Strong lottery tickets: pruning a random depth-2L network to approximate a depth-L target.

One concept per module, read in this order:

- :mod:`.masked`: random ReLU networks with a binary mask per layer (``keep_fraction``);
- :mod:`.target`: the random depth-L target with operator norm <= 1 per layer;
- :mod:`.subset_sum`: exact subset-sum search (meet in the middle, brute force, MILP);
- :mod:`.two_hop`: the layout shared by both constructions (one target layer -> two layers);
- :mod:`.malach`: single-product selection (Malach et al. 2020);
- :mod:`.pensia`: subset-sum selection (Pensia et al. 2020);
- :mod:`.propagation`: the explicit error-propagation bound;
- :mod:`.sup_error`: the measured sup error over the unit ball;
- :mod:`.scaling`: candidates needed per weight against eps and against target size.
"""
