"""The numba decorator of every kernel module: compiled on first use, cached on disk.

Kernels are cached next to their module, or in ``NUMBA_CACHE_DIR``. Where no cache folder is
writable, they are compiled in every process instead, and a single warning says so.
"""

import warnings

from numba import njit
from numba.core.errors import NumbaWarning

_warned_no_cache = False

# The visible units' dispatch calls back into Python for unit types defined outside the
# package (an object-mode block): numba notes for every nogil kernel that reaches it that
# such a block holds the GIL, which is the point of it.
warnings.filterwarnings("ignore", message="Code running in object mode won't allow parallel",
                        category=NumbaWarning)


def kernel(func=None, **options):
    """``numba.njit(cache=True, nogil=True, **options)``, without the disk cache where none is
    writable (then with one warning per process)."""
    if func is None:
        return lambda f: kernel(f, **options)
    try:
        return njit(cache=True, nogil=True, **options)(func)
    except RuntimeError as exc:
        _warn_no_cache(exc)
        return njit(nogil=True, **options)(func)


def _warn_no_cache(exc):
    global _warned_no_cache
    if _warned_no_cache:
        return
    _warned_no_cache = True
    warnings.warn(
        f"numba cannot cache skmultimodal's compiled kernels ({exc}); they will be compiled "
        "again in every process, which makes the first fit of each process slow. Set the "
        "environment variable NUMBA_CACHE_DIR to a writable folder to cache them.",
        RuntimeWarning,
        stacklevel=3,
    )
