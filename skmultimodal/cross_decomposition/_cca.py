"""Canonical correlation analysis: coordinated linear representations of two or more views."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.covariance import ledoit_wolf_shrinkage
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._modalities import per_modality, validate_modal_data
from .._utils import keep_state_on_error


def complete_views(estimator, X, *, max_views=None, min_rows=2):
    """Validate training data of a coordinated model and return its views' complete rows.

    Resolves ``modalities`` (stored as ``modalities_``), checks the number of views, and keeps
    the rows with every view present (rows with a missing view cannot be paired).

    Returns
    -------
    views : list of ndarray
        Each view's columns on the complete rows, float64.
    """
    X, missing, _ = validate_modal_data(estimator, X, reset=True, accept_sparse=False,
                                        dtype=np.float64)
    name, n_views = type(estimator).__name__, len(estimator.modalities_)
    if n_views < 2 or (max_views is not None and n_views > max_views):
        wanted = "exactly two" if max_views == 2 else "at least two"
        raise ValueError(f"{name} needs {wanted} views; got {n_views}.")
    complete = ~missing.any(axis=1)
    if not complete.all():
        X = X[complete]
    if X.shape[0] < min_rows:
        raise ValueError(f"{name} needs at least {min_rows} rows with every view present, "
                         f"got {X.shape[0]}.")
    return [X[:, cols] for _, cols in estimator.modalities_]


def _view_basis(Xc, reg):
    """Eigenbasis of a centred view's regularised covariance on the span of the data.

    The regularised covariance is ``C = X^T X / (n - 1) + reg I``. For ``"ledoit_wolf"`` the
    ridge is ``reg = alpha mu / (1 - alpha)``, with ``alpha`` the Ledoit-Wolf shrinkage
    intensity towards ``mu I``: ``C`` is then the Ledoit-Wolf estimate divided by
    ``1 - alpha``. (Using the estimate itself would shrink large variances below their sample
    values, and the "correlations" could exceed 1; the common scale does not change the
    canonical directions.) On the span ``V`` of the data, ``C V = V diag(lam)``;
    ``C^{-1/2}`` restricted to it is ``V diag(lam^{-1/2}) V^T``. Directions without data
    variance carry no correlation and are dropped.

    The basis comes from the eigendecomposition of ``X^T X`` when there are more rows than
    features (one matrix product and a small ``eigh``), else from the thin SVD of ``X`` (never
    forming the large Gram matrix).

    Returns
    -------
    V : ndarray of shape (n_features, rank)
        Orthonormal basis of the view's span.
    inv_sqrt : ndarray of shape (rank,)
        ``lam^{-1/2}``.
    """
    n, d = Xc.shape
    eps = np.finfo(Xc.dtype).eps
    if n > d:
        scatter, V = np.linalg.eigh(Xc.T @ Xc)
        scatter, V = scatter[::-1], V[:, ::-1]
        # eigenvalues are accurate to about eps * largest; keep those clearly above it
        keep = scatter > (scatter[0] * 10 * d * eps if scatter.size else 0.0)
    else:
        _, s, Vt = np.linalg.svd(Xc, full_matrices=False)
        scatter, V = s**2, Vt.T
        keep = s > (s[0] * max(n, d) * eps if s.size else 0.0)
    scatter, V = scatter[keep], V[:, keep]
    if isinstance(reg, str):  # "ledoit_wolf"
        alpha = min(ledoit_wolf_shrinkage(Xc, assume_centered=True), 1 - 1e-12)
        mu = np.sum(Xc**2) / (n * d)
        reg = alpha * mu / (1 - alpha)
    return V, 1.0 / np.sqrt(scatter / (n - 1) + reg)


class CCA(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Canonical correlation analysis by the closed form of seed 004, with regularisation.

    For two views with regularised covariances ``S11``, ``S22`` and cross-covariance ``S12``::

        T = S11^{-1/2} S12 S22^{-1/2} = U diag(rho) V^T     (SVD)
        W1 = S11^{-1/2} U_k,   W2 = S22^{-1/2} V_k

    The canonical variates ``(X1 - mean1) W1`` and ``(X2 - mean2) W2`` have unit (regularised)
    variance and correlations ``rho`` (``canonical_correlations_``). The whitening uses the
    thin SVD of each centred view, never the explicit covariance, so a view with more
    features than samples, or with constant or collinear columns, is handled exactly: without
    regularisation such a view makes the problem degenerate (correlations 1, as any
    unregularised CCA finds), with ``reg > 0`` the components are finite, ordered and
    reproducible. Choose ``reg`` by cross-validating :meth:`score` (``GridSearchCV`` needs no
    labels).

    With more than two views this is the MAXVAR generalisation (Kettenring 1971; Carroll
    1968): a shared representation ``G`` of orthonormal columns maximising
    ``sum_m ||P_m G||_F^2``, where ``P_m`` is the regularised projection onto view ``m``; each
    view's weights regress ``G`` on that view. For two views MAXVAR finds the same canonical
    directions.

    :meth:`transform` maps each row into the shared space from whichever views it has: the
    mean of the available views' canonical variates (a missing view is its whole block NaN).

    Parameters
    ----------
    n_components : int, default=2
        Number of canonical components ``k``; at most the smallest view's rank.
    modalities : None, list of int or list of (str, columns) tuples, default=None
        Which columns form which view (see the :ref:`User Guide <data_model>`); ``None``
        splits the columns into two halves.
    reg : float, "ledoit_wolf" or list of those, default=0.0
        Ridge added to each view's covariance (scale it to the features' variance); or
        ``"ledoit_wolf"``, the ridge ``alpha mu / (1 - alpha)`` from the Ledoit-Wolf
        shrinkage intensity ``alpha`` and mean variance ``mu`` of the view; or one such value
        per view.

    Attributes
    ----------
    weights_ : list of ndarray of shape (n_features_m, n_components)
        Canonical weights of each view.
    means_ : list of ndarray of shape (n_features_m,)
        Column means of each view.
    canonical_correlations_ : ndarray of shape (n_components,)
        Training correlations of the canonical variates (two views), or the mean over view
        pairs (more views).
    modalities_ : list of (str, slice or ndarray)
        The resolved view specification.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    sklearn.cross_decomposition.CCA : The iterative (NIPALS) two-view CCA, whose
        ``fit_transform`` returns a tuple and so cannot sit inside a Pipeline.

    References
    ----------
    Hotelling, H. Relations between two sets of variates. Biometrika 1936.

    Kettenring, J. R. Canonical analysis of several sets of variables. Biometrika 1971.

    Examples
    --------
    >>> from sklearn.datasets import load_linnerud
    >>> import numpy as np
    >>> from skmultimodal.cross_decomposition import CCA
    >>> exercise, physiology = load_linnerud(return_X_y=True)
    >>> cca = CCA(n_components=3).fit(np.hstack([exercise, physiology]))
    >>> np.round(cca.canonical_correlations_, 6)
    array([0.795608, 0.200556, 0.07257 ])
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "modalities": [None, list, tuple],
        "reg": [Interval(Real, 0, None, closed="left"), StrOptions({"ledoit_wolf"}), list,
                tuple],
    }

    def __init__(self, n_components=2, *, modalities=None, reg=0.0):
        self.n_components = n_components
        self.modalities = modalities
        self.reg = reg

    @property
    def _n_features_out(self):
        return self.n_components

    def _regs(self):
        regs = per_modality(self.reg, "reg", len(self.modalities_))
        for r in regs:
            if not (r == "ledoit_wolf" or (isinstance(r, Real) and r >= 0)):
                raise ValueError(f"Each reg must be a non-negative float or 'ledoit_wolf', "
                                 f"got {r!r}.")
        return regs

    @keep_state_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the canonical weights on the complete rows of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The views' columns side by side. Rows with a missing view (a whole NaN block) are
            not used for fitting.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        views = complete_views(self, X)
        self.means_ = [v.mean(axis=0) for v in views]
        centred = [v - m for v, m in zip(views, self.means_)]
        bases = [_view_basis(v, r) for v, r in zip(centred, self._regs())]
        for (name, _), (V, _) in zip(self.modalities_, bases):
            if V.shape[1] == 0:
                raise ValueError(f"View {name!r} is constant: it has no variance to correlate.")
            if self.n_components > V.shape[1]:
                raise ValueError(
                    f"n_components={self.n_components} exceeds the rank {V.shape[1]} of view "
                    f"{name!r} on the complete training rows; choose at most {V.shape[1]}."
                )
        n = views[0].shape[0]
        if len(views) == 2:
            self.weights_, rho = self._fit_two(bases, centred, n)
        else:
            # each view's data in its own eigenbasis, scaled to unit regularised variance
            whitened = [(v @ V) * d for v, (V, d) in zip(centred, bases)]
            self.weights_ = self._fit_maxvar(bases, whitened, n)
            rho = self._mean_correlations([v @ W for v, W in zip(centred, self.weights_)])
        self.canonical_correlations_ = rho
        return self

    def _fit_two(self, bases, centred, n):
        """SVD of T = S11^{-1/2} S12 S22^{-1/2}, expressed in the views' eigenbases."""
        (V1, d1), (V2, d2) = bases
        X1, X2 = centred
        if n > max(X1.shape[1], X2.shape[1]):
            cross = V1.T @ (X1.T @ X2) @ V2  # through the small cross-product matrix
        else:
            cross = (X1 @ V1).T @ (X2 @ V2)  # through the data, never a large d1 x d2
        P, rho, Qt = np.linalg.svd(d1[:, None] * cross * d2[None, :] / (n - 1),
                                   full_matrices=False)
        k = self.n_components
        return [V1 @ (d1[:, None] * P[:, :k]), V2 @ (d2[:, None] * Qt[:k].T)], \
            np.minimum(rho[:k], 1.0)

    def _fit_maxvar(self, bases, whitened, n):
        """MAXVAR: G = top left singular vectors of [Z_1, ..., Z_M] / sqrt(n - 1), whose
        outer product is the sum of the views' regularised projections; W_m = C_m^{-1} X_m^T G
        / (n - 1), scaled to unit variance."""
        A = np.hstack(whitened) / np.sqrt(n - 1)
        G = np.linalg.svd(A, full_matrices=False)[0][:, : self.n_components]
        weights = []
        for (V, d), Z in zip(bases, whitened):
            W = V @ (d[:, None] * (Z.T @ G)) / (n - 1)
            scale = np.std(Z @ (Z.T @ G) / (n - 1), axis=0, ddof=1)
            weights.append(W / np.maximum(scale, np.finfo(float).tiny))
        return weights

    @staticmethod
    def _mean_correlations(variates):
        """Per component, the mean over view pairs of the correlation of the variates."""
        rho, pairs = 0.0, 0
        for i in range(len(variates)):
            for j in range(i + 1, len(variates)):
                a = variates[i] - variates[i].mean(axis=0)
                b = variates[j] - variates[j].mean(axis=0)
                norm = np.linalg.norm(a, axis=0) * np.linalg.norm(b, axis=0)
                rho = rho + np.sum(a * b, axis=0) / np.where(norm > 0, norm, 1.0)
                pairs += 1
        return rho / pairs

    def _variates(self, X, missing):
        """Each view's canonical variates on validated X; NaN where the view is missing."""
        variates = []
        for m, ((_, cols), mean, W) in enumerate(zip(self.modalities_, self.means_,
                                                     self.weights_)):
            Z = np.full((X.shape[0], self.n_components), np.nan)
            present = ~missing[:, m]
            Z[present] = (X[present][:, cols] - mean) @ W
            variates.append(Z)
        return variates

    def transform_views(self, X):
        """Canonical variates of each view; NaN rows where the view is missing.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with missing views as whole NaN blocks.

        Returns
        -------
        variates : list of ndarray of shape (n_samples, n_components)
            One array per view.
        """
        check_is_fitted(self)
        X, missing, _ = validate_modal_data(self, X, reset=False, accept_sparse=False,
                                            dtype=np.float64, allow_all_missing=True)
        return self._variates(X, missing)

    def transform(self, X):
        """Map each row into the shared space: the mean of its available views' variates.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data; a missing view is a whole NaN block. Rows need at least one view.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            Shared representation.
        """
        check_is_fitted(self)
        X, missing, _ = validate_modal_data(self, X, reset=False, accept_sparse=False,
                                            dtype=np.float64)
        total = np.zeros((X.shape[0], self.n_components))
        for m, Z in enumerate(self._variates(X, missing)):
            total[~missing[:, m]] += Z[~missing[:, m]]
        return total / (~missing).sum(axis=1)[:, None]

    def score(self, X, y=None):
        """Mean canonical correlation of the first ``n_components`` components on X.

        Computed on the rows of X with every view present (mean over view pairs for more
        than two views); higher is better, so ``GridSearchCV`` can tune ``reg`` and
        ``n_components`` without labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Held-out data.
        y : None
            Ignored.

        Returns
        -------
        score : float
            Mean correlation.
        """
        variates = self.transform_views(X)
        complete = ~np.any([np.isnan(Z[:, 0]) for Z in variates], axis=0)
        if complete.sum() < 2:
            raise ValueError("score needs at least 2 rows with every view present.")
        return float(np.mean(self._mean_correlations([Z[complete] for Z in variates])))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


class _FeatureCCAMixin:
    """Inference of estimators that map each view to features and relate them by a CCA.

    The estimator defines ``_features(X, missing)`` (the views' features side by side, NaN
    blocks where a view is missing) and fits a linear :class:`CCA` ``cca_`` on the training
    features; this mixin provides ``transform``, ``transform_views`` and ``score`` from them.
    """

    @property
    def _n_features_out(self):
        return self.n_components

    def _validated_features(self, X, allow_all_missing=False):
        check_is_fitted(self)
        X, missing, _ = validate_modal_data(self, X, reset=False, accept_sparse=False,
                                            dtype=np.float64,
                                            allow_all_missing=allow_all_missing)
        return self._features(X, missing)

    def transform(self, X):
        """Map each row into the shared space: the mean of its available views' variates.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data; a missing view is a whole NaN block. Rows need at least one view.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            Shared representation.
        """
        return self.cca_.transform(self._validated_features(X))

    def transform_views(self, X):
        """Canonical variates of each view; NaN rows where the view is missing.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with missing views as whole NaN blocks.

        Returns
        -------
        variates : list of ndarray of shape (n_samples, n_components)
            One array per view.
        """
        return self.cca_.transform_views(self._validated_features(X, allow_all_missing=True))

    def score(self, X, y=None):
        """Mean canonical correlation of the first ``n_components`` components on X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Held-out data; rows with every view present are used.
        y : None
            Ignored.

        Returns
        -------
        score : float
            Mean correlation, higher is better (tunes hyper-parameters without labels).
        """
        return self.cca_.score(self._validated_features(X, allow_all_missing=True))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags
