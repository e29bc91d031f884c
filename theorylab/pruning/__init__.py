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
- :mod:`.adversarial`: the exact worst case the propagation bound allows (depth <= 2);
- :mod:`.scaling`: candidates needed per weight against eps and against target size;
- :mod:`.experiment`: the measurements of the ``pruning`` claim.

This module holds the constants the claim's parameters need, so that importing it costs no
torch (``--help`` and ``--list`` stay light).
"""

# Exhaustive (meet-in-the-middle) subset-sum search up to this many candidates per sign pool
# (see :mod:`.subset_sum`, where the figure is justified).
EXHAUSTIVE_LIMIT = 36
# Half sums per chunk of rows in the subset search: bounds its working set to ~100 MB.
CHUNK_ELEMENTS = 2**22
# Distributions of the random network's weights (:mod:`.masked`).
DISTRIBUTIONS = ("uniform", "normal")
# eps ladder: target weights w ~ U[-LADDER_WEIGHT_MAX, LADDER_WEIGHT_MAX]. The single-product
# match probability vanishes like (1 - |w|) near |w| = 1 (rho(s) = log(1/|s|)/2), so the ladder
# stays where both constructions can succeed; the network targets' weights are far smaller.
LADDER_WEIGHT_MAX = 0.5
