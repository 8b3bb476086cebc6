"""Kernel canonical correlation analysis, exact or with Nystroem features."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.kernel_approximation import Nystroem
from sklearn.metrics.pairwise import PAIRWISE_KERNEL_FUNCTIONS, pairwise_kernels
from sklearn.preprocessing import KernelCenterer
from sklearn.utils._param_validation import Interval, StrOptions

from .._modalities import per_modality
from .._utils import keep_state_on_error
from ._cca import CCA, _FeatureCCAMixin, complete_views


class _ExactKernelFeatures:
    """Kernel PCA coordinates of a view: the exact feature map of its centred Gram matrix.

    ``K_c = U diag(lam) U^T``; training rows map to ``U diag(lam^{1/2})`` and a new row ``x``
    to ``diag(lam^{-1/2}) U^T k_c(x)``, with ``k_c`` the kernel column centred as the training
    Gram matrix was. Linear CCA on these coordinates is kernel CCA.
    """

    def __init__(self, kernel, params):
        self.kernel, self.params = kernel, params

    def fit_transform(self, X):
        self.X_ = X
        K = pairwise_kernels(X, metric=self.kernel, filter_params=True, **self.params)
        self.centerer_ = KernelCenterer().fit(K)
        lam, U = np.linalg.eigh(self.centerer_.transform(K))
        keep = lam > max(lam[-1], 0) * len(X) * np.finfo(float).eps
        self.projection_ = U[:, keep] / np.sqrt(lam[keep])
        return U[:, keep] * np.sqrt(lam[keep])

    def transform(self, X):
        K = pairwise_kernels(X, self.X_, metric=self.kernel, filter_params=True, **self.params)
        return self.centerer_.transform(K) @ self.projection_


class KCCA(_FeatureCCAMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Kernel canonical correlation analysis (seed 004), exact or with Nystroem features.

    Each view is mapped into the feature space of its kernel and the views' features are
    related by regularised linear CCA (:class:`CCA`). With ``approximation=None`` the feature
    map is exact: the kernel PCA coordinates of the view's centred Gram matrix, so the
    canonical correlations are those of regularised kernel CCA (Bach & Jordan 2002; Hardoon et
    al. 2004), the regulariser being a ridge ``reg`` on each feature-space covariance, i.e.
    ``K^2 + (n - 1) reg K`` in the Gram-matrix form. This costs ``O(n^3)`` time and ``O(n^2)``
    memory. With ``approximation="nystroem"`` each view uses ``n_approx_components``
    landmarks (scikit-learn's :class:`~sklearn.kernel_approximation.Nystroem`): ``O(n m^2)``
    time, ``O(n m)`` memory, and it approaches exact KCCA as ``m`` grows.

    New rows are mapped by the out-of-sample kernel against the training points (exact) or the
    landmarks (Nystroem). :meth:`transform` averages the canonical variates of the views a row
    has; :meth:`score` is the mean canonical correlation on held-out data.

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
        Exact kernel features or the Nystroem approximation.
    n_approx_components : int, default=500
        Number of Nystroem landmarks per view.
    random_state : int, RandomState instance or None, default=None
        Seed of the Nystroem landmark choice.

    Attributes
    ----------
    cca_ : CCA
        The linear CCA fitted on the views' kernel features.
    canonical_correlations_ : ndarray of shape (n_components,)
        Training canonical correlations.
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

    def _feature_map(self, kernel, params):
        if self.approximation == "nystroem":
            return Nystroem(kernel=kernel, kernel_params=params or None,
                            n_components=self.n_approx_components,
                            random_state=self.random_state)
        return _ExactKernelFeatures(kernel, params or {})

    @keep_state_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the kernel feature maps and the canonical weights on the complete rows of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The views' columns side by side; rows with a missing view are not used.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        views = complete_views(self, X)
        n_views = len(views)
        kernels = per_modality(self.kernel, "kernel", n_views)
        params = per_modality(self.kernel_params, "kernel_params", n_views)
        self.feature_maps_ = [self._feature_map(k, p) for k, p in zip(kernels, params)]
        features = [f.fit_transform(v) for f, v in zip(self.feature_maps_, views)]
        self.cca_ = CCA(self.n_components, modalities=[F.shape[1] for F in features],
                        reg=self.reg).fit(np.hstack(features))
        self.canonical_correlations_ = self.cca_.canonical_correlations_
        return self

    def _features(self, X, missing):
        """The views' kernel features side by side; NaN blocks where a view is missing."""
        blocks = []
        for m, (f, (_, cols)) in enumerate(zip(self.feature_maps_, self.modalities_)):
            present = ~missing[:, m]
            block = np.full((X.shape[0], self.cca_.means_[m].size), np.nan)
            if present.any():
                block[present] = f.transform(X[present][:, cols])
            blocks.append(block)
        return np.hstack(blocks)
