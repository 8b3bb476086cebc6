"""Compiled steps of the optimisers of :mod:`skmultimodal._training`: one pass over a
parameter vector, its gradient and its state, in the parameters' dtype.

The numpy form of an Adam step reads and writes each array several times and allocates
five temporaries; for the autoencoder's few million parameters that was a quarter of an
epoch. These loops touch each element once.
"""

import numpy as np

from ._jit import kernel


@kernel(error_model="numpy", fastmath={"contract"})
def adam_step(p, g, m, v, beta1, beta2, rate, epsilon):
    """``m <- beta1 m + (1 - beta1) g``, ``v <- beta2 v + (1 - beta2) g^2``,
    ``p <- p - rate m / (sqrt(v) + epsilon)``, element by element, in place (1-D arrays)."""
    one = p.dtype.type(1.0)
    b1, b2 = p.dtype.type(beta1), p.dtype.type(beta2)
    c1, c2 = one - b1, one - b2
    r, e = p.dtype.type(rate), p.dtype.type(epsilon)
    for i in range(p.size):
        gi = g[i]
        mi = b1 * m[i] + c1 * gi
        vi = b2 * v[i] + c2 * gi * gi
        m[i] = mi
        v[i] = vi
        p[i] -= r * mi / (np.sqrt(vi) + e)


@kernel(error_model="numpy", fastmath={"contract"})
def momentum_step(p, g, velocity, momentum, rate):
    """``velocity <- momentum velocity - rate g``, ``p <- p + velocity``, in place (1-D)."""
    mu, r = p.dtype.type(momentum), p.dtype.type(rate)
    for i in range(p.size):
        step = mu * velocity[i] - r * g[i]
        velocity[i] = step
        p[i] += step
