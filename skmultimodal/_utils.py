"""Small helpers shared by every estimator."""

import functools
import warnings

import numpy as np
import scipy.sparse as sp


_GENERATORS = (np.random.Generator, np.random.RandomState)
_HOLDERS = (np.ndarray, dict, list, tuple) + _GENERATORS


def _mutable_parts(value, seen):
    """The random generators, writeable arrays, lists and dicts in ``value`` and in its
    containers. A list or tuple is looked into only if its first item is an array, a
    generator or a container (a list of numbers, such as a loss curve, is not walked)."""
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, _GENERATORS):
        yield value
    elif isinstance(value, np.ndarray):
        if value.flags.writeable and value.dtype != object:
            yield value
    elif isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _mutable_parts(item, seen)
    elif isinstance(value, (list, tuple)):
        if isinstance(value, list):
            yield value
        if value and isinstance(value[0], _HOLDERS):
            for item in value:
                yield from _mutable_parts(item, seen)


def _save(part):
    if isinstance(part, np.random.Generator):
        return part.bit_generator.state
    if isinstance(part, np.random.RandomState):
        return part.get_state()
    return part.copy()


def _restore(part, saved):
    if isinstance(part, np.random.Generator):
        part.bit_generator.state = saved
    elif isinstance(part, np.random.RandomState):
        part.set_state(saved)
    elif isinstance(part, dict):
        part.clear()
        part.update(saved)
    elif isinstance(part, list):
        part[:] = saved
    else:
        part[...] = saved


def keep_state_on_error(method):
    """Decorate a fitting method so that a failed call leaves the estimator as it was.

    Before the call, the estimator's attribute dictionary is saved, and with it the state
    of every random generator (``numpy.random.Generator`` or ``RandomState``) and a copy of
    every writeable array, list and dict that the dictionary holds, directly or in lists,
    tuples and dicts. If the call raises, the dictionary is put back, the generators are
    reset to their saved states and the arrays', lists' and dicts' contents are written
    back in place (so an array that is a view of another stays one). The next call then
    does exactly what it would have done had the failed one never been made, random draws
    included. Other objects (fitted sub-estimators) are restored by reference only.
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        saved = dict(self.__dict__)
        seen = set()
        parts = [(part, _save(part)) for value in saved.values()
                 if isinstance(value, _HOLDERS) for part in _mutable_parts(value, seen)]
        try:
            return method(self, *args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            for part, state in parts:
                _restore(part, state)
            raise

    return wrapper


def as_generator(random_state):
    """A ``numpy.random.Generator`` from an int, None, RandomState or Generator."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    return np.random.default_rng(random_state)


# Columns whose root mean square exceeds _SCALE_HIGH, or data whose every column stays
# below _SCALE_LOW, are "far from standardised". Measured with LargeMarginEmbedding
# (euclidean, defaults) on load_digits: standardised pixels times 10 (root mean square 10)
# and the raw pixels (largest 12.8) diverge, times 0.01 (0.01) learns nothing (accuracy
# 0.10), raw pixels times 0.01 (largest 0.13) and standardised ones train well.
_SCALE_HIGH = 10.0
_SCALE_LOW = 0.05
_SCALE_ROWS = 10000


def feature_scale_advice(X):
    """Why the columns of X are far from zero mean and unit variance, or None.

    Looks at the root mean square ``sqrt(mean(x^2))`` of every column (which is large for
    a large mean or a large variance), over at most 10,000 evenly spaced rows, NaN
    entries ignored. Returns a sentence naming the column whose scale is furthest from 1
    if the largest root mean square is above 10 or below 0.05, else None.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)

    Returns
    -------
    advice : str or None
    """
    if X.shape[0] == 0 or X.shape[1] == 0:
        return None
    if X.shape[0] > _SCALE_ROWS:
        X = X[np.linspace(0, X.shape[0] - 1, _SCALE_ROWS).astype(np.intp)]
    if sp.issparse(X):
        X = sp.csc_array(X)
        nan = np.isnan(X.data)
        squares = np.square(np.where(nan, 0.0, X.data.astype(np.float64)))
        column = np.repeat(np.arange(X.shape[1]), np.diff(X.indptr))
        present = X.shape[0] - np.bincount(column[nan], minlength=X.shape[1])
        rms = np.sqrt(np.bincount(column, squares, minlength=X.shape[1])
                      / np.maximum(present, 1))
    else:
        with np.errstate(over="ignore"):
            squares = np.square(np.asarray(X, dtype=np.float64))
        present = ~np.isnan(squares)
        rms = np.sqrt(np.where(present, squares, 0.0).sum(axis=0)
                      / np.maximum(present.sum(axis=0), 1))
    column = int(np.argmax(rms))
    largest = rms[column]
    if largest > _SCALE_HIGH:
        return (f"feature {column} has root mean square {largest:.3g}, far from the unit "
                "scale of standardised features")
    if largest < _SCALE_LOW:
        return (f"every feature has root mean square at most {largest:.3g}, far below the "
                "unit scale of standardised features")
    return None


def unscaled_hint(X):
    """The likely cause a divergence message gives when X is far from standardised."""
    advice = feature_scale_advice(X)
    if advice is None:
        return None
    return f"the features are not standardised ({advice}); put a StandardScaler in the Pipeline."


def warn_if_unscaled(estimator, X, assumption):
    """Warn once, at the start of a model, that X is far from standardised.

    ``assumption`` names what assumes standardised features (e.g. "its learning_rate and
    margin"). The warning points at the user's call when this runs in a method called by
    a decorated ``fit`` or ``partial_fit`` (the estimators' ``_start``).
    """
    advice = feature_scale_advice(X)
    if advice is not None:
        name = type(estimator).__name__
        warnings.warn(
            f"{name}: the features are not standardised ({advice}), but {assumption} assume "
            "zero mean and unit variance. Put a StandardScaler in the Pipeline: "
            f"make_pipeline(StandardScaler(), {name}(...)).", UserWarning, stacklevel=6,
        )
