"""Kernel canonical correlation analysis, exact or with Nystroem features."""

import copy
import warnings
from functools import partial
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, _fit_context
from sklearn.kernel_approximation import Nystroem
from sklearn.metrics.pairwise import PAIRWISE_KERNEL_FUNCTIONS, pairwise_kernels
from sklearn.preprocessing import KernelCenterer
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if

from .._modalities import per_modality, reject_second_view
from .._utils import keep_state_on_error
from ._cca import CCA, _FeatureCCAMixin
from ._views import (
    _Moments,
    complete_moments,
    dask_complete_rows,
    dask_moments,
    validate_views,
)

_N_SIGN_ROWS = 1000  # training rows whose variates fix the signs of exact KCCA


class _ExactKernelFeatures:
    """Kernel PCA coordinates of a view: the exact feature map of its centred Gram matrix.

    ``K_c = U diag(lam) U^T``; training rows map to ``U diag(lam^{1/2})`` and a new row ``x``
    to ``diag(lam^{-1/2}) U^T k_c(x)``, with ``k_c`` the kernel column centred as the training
    Gram matrix was. Linear CCA on these coordinates is kernel CCA. Eigenvalues at the
    rounding level of the kernel's entries are dropped: a constant view has no coordinates.
    """

    def __init__(self, kernel, params):
        self.kernel, self.params = kernel, params

    def fit_transform(self, X):
        self.X_ = X
        K = pairwise_kernels(X, metric=self.kernel, filter_params=True, **self.params)
        self.centerer_ = KernelCenterer().fit(K)
        lam, U = np.linalg.eigh(self.centerer_.transform(K))
        scale = max(lam[-1], np.abs(K).max())
        keep = lam > scale * len(X) * np.finfo(float).eps
        self.projection_ = U[:, keep] / np.sqrt(lam[keep])
        return U[:, keep] * np.sqrt(lam[keep])

    def transform(self, X):
        K = pairwise_kernels(X, self.X_, metric=self.kernel, filter_params=True, **self.params)
        return self.centerer_.transform(K) @ self.projection_


def _stacked_features(X, feature_maps, modalities):
    """The views' features of complete float rows X, side by side, as a new float64 array."""
    X = np.asarray(X, dtype=np.float64)
    return np.hstack([f.transform(X[:, cols]) for f, (_, cols) in zip(feature_maps, modalities)])


def _uses_nystroem(estimator):
    if estimator.approximation != "nystroem":
        raise AttributeError("partial_fit needs approximation='nystroem': exact KCCA solves "
                             "one eigenproblem of the n x n kernel matrix of all the rows.")
    return True


class KCCA(_FeatureCCAMixin, ClassNamePrefixFeaturesOutMixin, BaseEstimator):
    """Kernel canonical correlation analysis, exact or with Nystroem features, streaming.

    Each view is mapped into the feature space of its kernel and the views' features are
    related by regularised linear CCA (:class:`CCA`). With ``approximation=None`` the feature
    map is exact: the kernel PCA coordinates of the view's centred Gram matrix, so the
    canonical correlations are those of regularised kernel CCA (Bach & Jordan 2002; Hardoon,
    Szedmak & Shawe-Taylor 2004), the regulariser being a ridge ``reg`` on each feature-space
    covariance, i.e. ``K^2 + (n - 1) reg K`` in the Gram-matrix form. This costs ``O(n^3)``
    time and ``O(n^2)`` memory. With ``approximation="nystroem"`` each view uses the
    Nystroem feature map (Williams & Seeger 2001) of ``n_approx_components`` landmark rows
    (scikit-learn's :class:`~sklearn.kernel_approximation.Nystroem`): ``O(n m^2)`` time and
    ``O(m^2)`` memory beyond one chunk of rows, and it approaches exact KCCA as ``m`` grows.

    The Nystroem landmarks are drawn (with ``random_state``) from the rows with every view
    present, the same rows for every view: by :meth:`fit` from all of them, by
    :meth:`partial_fit` from its first chunk. After that the features of each row are fixed,
    so :meth:`partial_fit` over chunks accumulates the same statistics (:class:`CCA`'s) as a
    batch fit with those landmarks, and :meth:`fit` on a ``dask.array.Array`` computes them
    block by block where the blocks live and equals the in-memory fit.

    New rows are mapped by the out-of-sample kernel against the training points (exact) or the
    landmarks (Nystroem). :meth:`transform` averages the canonical variates of the views a row
    has; :meth:`score` is the mean canonical correlation on held-out data. Each component's
    sign is fixed: its variate on the anchor rows (the training rows, or the landmarks) is
    largest in absolute value at a positive entry, whatever the input's memory layout,
    container or float type.

    Parameters
    ----------
    n_components : int, default=2
        Number of canonical components.
    modalities : None, list of int or list of (str, columns) tuples, default=None
        Which columns form which view (``None``: two halves).
    kernel : str, callable or list, default="rbf"
        A kernel of :func:`sklearn.metrics.pairwise.pairwise_kernels` (``"rbf"``,
        ``"poly"``, ``"linear"``, ...), a callable, or one per view.
    kernel_params : dict or list of dict, default=None
        Parameters of the kernel (e.g. ``{"gamma": 0.1}``), or one dict per view.
    reg : float, "ledoit_wolf" or list, default=1e-3
        Ridge on each view's feature-space covariance (see :class:`CCA`).
    approximation : {None, "nystroem"}, default=None
        Exact kernel features or the Nystroem approximation (which also enables
        :meth:`partial_fit` and dask input).
    n_approx_components : int, default=500
        Number of Nystroem landmarks per view (at most the number of rows they are drawn
        from).
    random_state : int, RandomState instance or None, default=None
        Seed of the Nystroem landmark choice.

    Attributes
    ----------
    cca_ : CCA
        The linear CCA fitted on the views' kernel features.
    feature_maps_ : list
        Each view's fitted feature map.
    canonical_correlations_ : ndarray of shape (n_components,)
        The correlations of the views' canonical variates (:meth:`transform_views`) on the
        training rows with every view present (see :class:`CCA`); ``score`` on the training
        rows is their mean.
    n_samples_seen_ : int
        Number of training rows with every view present.
    modalities_ : list of (str, slice or ndarray)
        The resolved view specification.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    CCA : Linear canonical correlation analysis.

    References
    ----------
    Bach, F. R. and Jordan, M. I. Kernel independent component analysis. JMLR 2002.

    Hardoon, D. R., Szedmak, S. and Shawe-Taylor, J. Canonical correlation analysis: an
    overview with application to learning methods. Neural Computation 2004.

    Williams, C. K. I. and Seeger, M. Using the Nystroem method to speed up kernel machines.
    NIPS 2001.

    Examples
    --------
    >>> import numpy as np
    >>> from skmultimodal.cross_decomposition import KCCA
    >>> rng = np.random.default_rng(0)
    >>> t = rng.uniform(-2, 2, size=(300, 1))
    >>> X = np.hstack([t, t**2 + 0.1 * rng.standard_normal((300, 1))])  # y = x^2 + noise
    >>> kcca = KCCA(n_components=1, kernel_params={"gamma": 1.0}, reg=1e-2).fit(X)
    >>> bool(kcca.canonical_correlations_[0] > 0.9)
    True

    Streaming with Nystroem features (the landmarks come from the first chunk):

    >>> stream = KCCA(n_components=1, kernel_params={"gamma": 1.0}, reg=1e-2,
    ...               approximation="nystroem", n_approx_components=100, random_state=0)
    >>> for start in range(0, 300, 150):
    ...     stream = stream.partial_fit(X[start:start + 150])
    >>> bool(stream.canonical_correlations_[0] > 0.9)
    True
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "modalities": [None, list, tuple],
        "kernel": [StrOptions(set(PAIRWISE_KERNEL_FUNCTIONS)), callable, list, tuple],
        "kernel_params": [dict, list, tuple, None],
        "reg": [Interval(Real, 0, None, closed="left"), StrOptions({"ledoit_wolf"}), list,
                tuple],
        "approximation": [None, StrOptions({"nystroem"})],
        "n_approx_components": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, n_components=2, *, modalities=None, kernel="rbf", kernel_params=None,
                 reg=1e-3, approximation=None, n_approx_components=500, random_state=None):
        self.n_components = n_components
        self.modalities = modalities
        self.kernel = kernel
        self.kernel_params = kernel_params
        self.reg = reg
        self.approximation = approximation
        self.n_approx_components = n_approx_components
        self.random_state = random_state

    @keep_state_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the kernel feature maps and the canonical weights on the complete rows of X.

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples, n_features)
            The views' columns side by side; rows with a missing view are not used. A dask
            array needs ``approximation="nystroem"``.
        y : None
            Ignored. (A second view as a 2-D ``y`` is an error: stack the views with
            :func:`~skmultimodal.stack_modalities`.)

        Returns
        -------
        self : object
            The fitted estimator.
        """
        reject_second_view(y, X, self)
        for name in ("feature_maps_", "cca_", "n_samples_seen_"):
            self.__dict__.pop(name, None)
        self._fit_rows(X, first=True, solve=True)
        return self

    @available_if(_uses_nystroem)
    @keep_state_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Add a chunk of rows to the statistics and update the canonical weights (Nystroem).

        The first call draws the landmarks from the chunk's complete rows (make it large
        enough: at least ``n_approx_components`` such rows); later calls map their rows with
        those landmarks' feature map, so a stream of chunks gives the model a batch fit of
        all the rows with the same landmarks gives. As for :meth:`CCA.partial_fit`, a call
        costs the chunk's features and cross-products; the weights are solved when first
        needed.

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples, n_features)
            A chunk of rows; rows with a missing view are not used.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The updated estimator.
        """
        reject_second_view(y, X, self)
        self._fit_rows(X, first=not hasattr(self, "feature_maps_"), solve=False)
        return self

    def _fit_rows(self, X, first, solve):
        """Validate X, fit the feature maps on the first call, add the features' statistics
        to a copy of ``cca_`` and, if ``solve``, solve it now (raising what prevents it)."""
        X, complete = validate_views(self, X, reset=first)
        dask = complete is None
        if dask and self.approximation is None:
            raise ValueError("Exact KCCA needs the n x n kernel matrix of all the rows in "
                             "memory; for a dask array use approximation='nystroem'.")
        if dask and first:
            complete = dask_complete_rows(X, self.modalities_)
        if first:
            anchors, moments = self._fit_feature_maps(X, complete, streaming=not solve)
            cca = self._feature_cca(moments.widths)
            cca._sign_rows = anchors
        else:
            moments, cca = None, copy.copy(self.cca_)
        if moments is None or moments.n == 0:  # Nystroem: the features' statistics
            to_features = partial(_stacked_features, feature_maps=self.feature_maps_,
                                  modalities=self.modalities_)
            widths = [f.n_components for f in self.feature_maps_]
            moments = (dask_moments(X, self.modalities_, to_features, widths) if dask else
                       complete_moments(X, complete, to_features, widths))
        cca._accumulate(moments)
        if solve:
            cca._solution()
            if self.approximation is None:  # no partial_fit: the statistics are done with
                del cca._moments
        self.cca_ = cca
        self.n_samples_seen_ = cca.n_samples_seen_

    @property
    def canonical_correlations_(self):
        return self.cca_.canonical_correlations_

    def _fit_feature_maps(self, X, complete, streaming):
        """Fit each view's feature map on the complete rows.

        Returns the first view's features of the rows that fix the components' signs (the
        first training rows for the exact map, the landmarks for Nystroem) and, for the exact
        map, the statistics of the training features (empty for Nystroem, whose features
        are computed afterwards).
        """
        n_views = len(self.modalities_)
        kernels = per_modality(self.kernel, "kernel", n_views)
        params = per_modality(self.kernel_params, "kernel_params", n_views)
        rows = np.flatnonzero(complete)
        if self.approximation == "nystroem":
            rows = self._landmark_rows(rows, streaming)
        sample = np.asarray(X[rows], dtype=np.float64)
        if sample.shape[0] < 2:
            raise ValueError(f"KCCA needs at least 2 rows with every view present, got "
                             f"{sample.shape[0]}.")
        for (name, cols) in self.modalities_ if self.approximation is None else ():
            if np.all(np.ptp(sample[:, cols], axis=0) == 0):
                raise ValueError(f"View {name!r} is constant on the training rows with every "
                                 "view present: it has no variance to correlate.")
        if self.approximation is None:
            self.feature_maps_ = [_ExactKernelFeatures(k, p or {})
                                  for k, p in zip(kernels, params)]
            features = [f.fit_transform(sample[:, cols])
                        for f, (_, cols) in zip(self.feature_maps_, self.modalities_)]
            for F, (name, _) in zip(features, self.modalities_):
                if F.shape[1] == 0:
                    raise ValueError(f"View {name!r} is constant on the training rows with "
                                     "every view present: its centred kernel matrix is zero, "
                                     "there is no variance to correlate.")
            moments = _Moments.of_rows(np.hstack(features), [F.shape[1] for F in features])
            return features[0][:_N_SIGN_ROWS], moments
        self.feature_maps_ = [
            Nystroem(kernel=k, kernel_params=p or None, n_components=len(rows),
                     random_state=0).fit(sample[:, cols])
            for k, p, (_, cols) in zip(kernels, params, self.modalities_)]
        widths = [f.n_components for f in self.feature_maps_]
        first = self.feature_maps_[0]
        return first.transform(first.components_), _Moments(widths)

    def _landmark_rows(self, rows, streaming):
        """``n_approx_components`` of the complete rows, drawn with ``random_state``, sorted."""
        m = self.n_approx_components
        if rows.size < m:
            warnings.warn(f"KCCA: only {rows.size} rows with every view present to draw "
                          f"n_approx_components={m} Nystroem landmarks from; all are used"
                          + (" (pass a larger first chunk to partial_fit)." if streaming
                             else "."), UserWarning)
            return rows
        return np.sort(rows[check_random_state(self.random_state).permutation(rows.size)[:m]])

    def _feature_cca(self, widths):
        """An unfitted linear CCA over the views' features, the views named as X's."""
        stops = np.cumsum(widths)
        spec = [(name, slice(int(s - w), int(s)))
                for (name, _), w, s in zip(self.modalities_, widths, stops)]
        cca = CCA(self.n_components, modalities=spec, reg=self.reg)
        cca.modalities_, cca.n_features_in_ = spec, int(stops[-1])
        return cca

    def _row_bytes(self):
        kernel_columns = sum(getattr(f, "X_", getattr(f, "components_", None)).shape[0]
                             for f in self.feature_maps_)
        return super()._row_bytes() + 8 * 4 * kernel_columns

    def _features(self, X, missing):
        """The views' kernel features side by side; NaN blocks where a view is missing."""
        blocks = []
        for m, (f, (_, cols)) in enumerate(zip(self.feature_maps_, self.modalities_)):
            present = ~missing[:, m]
            if present.all():
                blocks.append(f.transform(X[:, cols]))
                continue
            block = np.full((X.shape[0], self.cca_.means_[m].size), np.nan)
            if present.any():
                block[present] = f.transform(X[present][:, cols])
            blocks.append(block)
        return np.hstack(blocks)
