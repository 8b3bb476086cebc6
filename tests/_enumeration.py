"""Exhaustive enumeration of small visible spaces, for exact checks of tiny models."""

import itertools

import numpy as np
from scipy.special import gammaln


def binary_states(width):
    """All 0/1 vectors of ``width`` units, one per row."""
    return np.array(list(itertools.product([0.0, 1.0], repeat=width)))


def count_states(width, length):
    """All count vectors over ``width`` words that sum to ``length``."""
    states = [s for s in itertools.product(range(length + 1), repeat=width) if sum(s) == length]
    return np.array(states, dtype=float)


def enumerate_visible(units, widths, length=3):
    """All visible states of the modalities with their log base measure.

    Binary blocks have measure 1; Replicated Softmax blocks of ``length`` words have the
    multinomial coefficient.
    """
    blocks, measures = [], []
    for u, w in zip(units, widths):
        if u == "binary":
            s = binary_states(w)
            blocks.append(s)
            measures.append(np.zeros(len(s)))
        else:
            s = count_states(w, length)
            blocks.append(s)
            measures.append(gammaln(length + 1) - gammaln(s + 1).sum(axis=1))
    grids = list(itertools.product(*[range(len(b)) for b in blocks]))
    V = np.array([np.concatenate([b[i] for b, i in zip(blocks, g)]) for g in grids])
    log_measure = np.array([sum(m[i] for m, i in zip(measures, g)) for g in grids])
    return V, log_measure
