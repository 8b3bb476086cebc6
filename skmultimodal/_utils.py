"""Small helpers shared by every estimator."""

import functools

import numpy as np


def keep_state_on_error(method):
    """Decorate a fitting method so that a failed call leaves the estimator as it was.

    The estimator's attribute dictionary is saved before the call and put back if the call
    raises. Fitting methods must therefore replace fitted arrays rather than mutate them in
    place (train on copies, assign at the end).
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        saved = dict(self.__dict__)
        try:
            return method(self, *args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    return wrapper


def as_generator(random_state):
    """A ``numpy.random.Generator`` from an int, None, RandomState or Generator."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    return np.random.default_rng(random_state)
