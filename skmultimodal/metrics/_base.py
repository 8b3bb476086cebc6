"""Validation shared by the metrics."""

import numbers


def _check_k(k, upper=None, what=""):
    """``k`` as an int in ``[1, upper]``; ``what`` names the upper bound in the error."""
    if not isinstance(k, numbers.Integral) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}.")
    if upper is not None and k > upper:
        raise ValueError(f"k={k} is larger than {what} ({upper}).")
    return int(k)
