"""Canonical correlation analysis: coordinated linear representations of two or more views.

Every model of this family fits from the same sufficient statistics of its training rows
(:mod:`._views`), so ``fit`` on an in-memory array, ``partial_fit`` over a stream and ``fit``
on a dask array all solve one small eigenproblem from the same numbers.
"""

import copy
from functools import partial
from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._modalities import (
    modality_widths,
    per_modality,
    reject_second_view,
    validate_modal_data,
)
from .._utils import keep_state_on_error
from ._views import (
    _take_columns,
    complete_moments,
    dask_moments,
    is_dask_array,
    ledoit_wolf_ridge,
    map_row_blocks,
    row_chunks,
    validate_views,
)


def orient(weights, reference):
    """Flip each component's sign so that the entry of largest absolute value of its column
    in ``reference`` is positive (the convention of :func:`sklearn.utils.extmath.svd_flip`);
    the same flip for every view's weights."""
    lead = reference[np.argmax(np.abs(reference), axis=0), np.arange(reference.shape[1])]
    signs = np.where(lead < 0, -1.0, 1.0)
    return [W * signs for W in weights]


def mean_pair_correlations(covariance, n_views):
    """Per component, the mean over view pairs of the correlation of the views' variates.

    ``covariance(m, o)`` is the per-component covariance (or co-moment) of the variates of
    views ``m`` and ``o``. A variate without variance correlates 0.
    """
    total, pairs = 0.0, 0
    variance = [covariance(m, m) for m in range(n_views)]
    for m in range(n_views):
        for o in range(m + 1, n_views):
            norm = np.sqrt(variance[m] * variance[o])
            total = total + covariance(m, o) / np.where(norm > 0, norm, 1.0)
            pairs += 1
    return total / pairs


class _NotDeterminedYet(ValueError):
    """The rows seen so far do not determine the canonical weights (more rows may)."""


def _two_view_coefficients(T, k):
    """The top ``k`` singular vector pairs of ``T = S11^{-1/2} S12 S22^{-1/2}`` (Hotelling
    1936), in the views' whitened eigenbases."""
    P, _, Qt = np.linalg.svd(T, full_matrices=False)
    return [P[:, :k], Qt[:k].T]


def _maxvar_coefficients(diagonal, whitened, k):
    """MAXVAR (Kettenring 1971) in the views' whitened eigenbases.

    ``K`` (blocks ``whitened(m, o)``, diagonal blocks ``diag(diagonal[m])``) is ``A^T A`` for
    the whitened data ``A = [X_1 V_1 D_1, ...] / sqrt(n - 1)``. The top eigenvectors ``R`` of
    ``K`` give the top left singular vectors ``G = A R diag(s)^{-1}`` of ``A``, i.e. the top
    eigenvectors of ``A A^T = sum_m P_m``, the sum of the views' regularised projections; each
    view's regression of ``G`` is then ``V_m D_m R_m`` (up to a scale per column), returned
    scaled to unit variance. The shared space may be wider than any one view: up to the rank
    of ``A``; a view then has variates that are combinations of its others (zero where a
    component is orthogonal to the view).
    """
    offsets = np.cumsum([0] + [d.size for d in diagonal])
    K = np.diag(np.concatenate(diagonal))
    for m in range(len(diagonal)):
        for o in range(m + 1, len(diagonal)):
            K[offsets[m]:offsets[m + 1], offsets[o]:offsets[o + 1]] = whitened(m, o)
    values, R = np.linalg.eigh(K, UPLO="U")
    rank = int(np.sum(values > values[-1] * K.shape[0] * 10 * np.finfo(float).eps))
    if k > rank:
        raise _NotDeterminedYet(f"n_components={k} exceeds the rank {rank} of the views' "
                                f"whitened data together; choose at most {rank}.")
    R = R[:, ::-1][:, :k]
    coefs = []
    for m, d in enumerate(diagonal):
        C = R[offsets[m]:offsets[m + 1]]
        scale = np.sqrt(np.sum(C**2 * d[:, None], axis=0))
        coefs.append(C / np.maximum(scale, np.finfo(float).tiny))
    return coefs


class _CanonicalVariatesMixin(TransformerMixin):
    """``transform``, ``transform_views`` and ``score`` of the CCA family.

    The estimator defines ``_chunk_variates(X, missing)``: each view's canonical variates on a
    float64 chunk of validated rows (NaN where the view is missing), and ``_row_bytes``, the
    memory one row of a chunk needs. Inputs are processed in row chunks that fit in
    scikit-learn's ``working_memory``; a dask array gives a dask array.
    """

    @property
    def _n_features_out(self):
        check_is_fitted(self)  # get_feature_names_out before fit: NotFittedError
        return self.n_components

    def _view_variates(self, X, allow_all_missing):
        """Each view's variates on in-memory X (row chunk by row chunk), and the missing mask."""
        self._check_fitted()
        X, missing, _ = validate_modal_data(self, X, reset=False, accept_sparse=False,
                                            dtype=(np.float64, np.float32),
                                            allow_all_missing=allow_all_missing)
        n_views = len(self.modalities_)
        variates = [np.empty((X.shape[0], self.n_components)) for _ in range(n_views)]
        for rows in row_chunks(X.shape[0], self._row_bytes()):
            chunk = np.asarray(X[rows], dtype=np.float64)
            for Z, Z_chunk in zip(variates, self._chunk_variates(chunk, missing[rows])):
                Z[rows] = Z_chunk
        return variates, missing

    def _row_bytes(self):
        return 8 * 4 * (self.n_features_in_ + self.n_components * len(self.modalities_))

    def _shared_rows(self, X):
        variates, missing = self._view_variates(X, allow_all_missing=False)
        total = np.zeros((missing.shape[0], self.n_components))
        for m, Z in enumerate(variates):
            total[~missing[:, m]] += Z[~missing[:, m]]
        return total / (~missing).sum(axis=1)[:, None]

    def _stacked_variates(self, X):
        return np.hstack(self._view_variates(X, allow_all_missing=True)[0])

    def transform(self, X):
        """Map each row into the shared space: the mean of its available views' variates.

        Computed over row chunks that fit in scikit-learn's ``working_memory``, so a large X
        (a memmap, say) needs no more memory than the output beyond one chunk.

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples, n_features)
            Data; a missing view is a whole NaN block. Rows need at least one view.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            Shared representation; a dask array, computed block by block, when X is one.
        """
        self._check_fitted()
        if is_dask_array(X):
            validate_data(self, X, reset=False, skip_check_array=True)
            return map_row_blocks(self._shared_rows, X, self.n_components)
        return self._shared_rows(X)

    def transform_views(self, X):
        """Canonical variates of each view; NaN rows where the view is missing.

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples, n_features)
            Data with missing views as whole NaN blocks.

        Returns
        -------
        variates : list of ndarray of shape (n_samples, n_components)
            One array per view (dask arrays when X is one).
        """
        self._check_fitted()
        k = self.n_components
        if is_dask_array(X):
            validate_data(self, X, reset=False, skip_check_array=True)
            stacked = map_row_blocks(self._stacked_variates, X, k * len(self.modalities_))
            return [stacked[:, m * k:(m + 1) * k] for m in range(len(self.modalities_))]
        return self._view_variates(X, allow_all_missing=True)[0]

    def score(self, X, y=None):
        """Mean canonical correlation of the ``n_components`` components on X.

        The correlation, on the rows of X with every view present, of the views' canonical
        variates (:meth:`transform_views`), averaged over view pairs and components; on the
        training rows it is the mean of ``canonical_correlations_``. Higher is better, so
        ``GridSearchCV`` can tune ``reg`` and ``n_components`` without labels.

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
        variates, missing = self._view_variates(X, allow_all_missing=True)
        complete = ~missing.any(axis=1)
        if complete.sum() < 2:
            raise ValueError("score needs at least 2 rows with every view present.")
        centred = [Z[complete] - Z[complete].mean(axis=0) for Z in variates]
        rho = mean_pair_correlations(lambda m, o: np.sum(centred[m] * centred[o], axis=0),
                                     len(centred))
        return float(np.mean(rho))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


class CCA(_CanonicalVariatesMixin, ClassNamePrefixFeaturesOutMixin, BaseEstimator):
    """Canonical correlation analysis in closed form, with regularisation and streaming.

    For two views with regularised covariances ``S11``, ``S22`` and cross-covariance ``S12``
    (Hotelling 1936; the regularised form of Vinod 1976)::

        T = S11^{-1/2} S12 S22^{-1/2} = U diag(r) V^T     (SVD)
        W1 = S11^{-1/2} U_k,   W2 = S22^{-1/2} V_k

    The canonical variates ``(X1 - mean1) W1`` and ``(X2 - mean2) W2`` have unit regularised
    variance; the components are ordered by ``r``. The whitening uses each view's
    eigendecomposition on the span of its data, so a view with more features than samples,
    or with constant or collinear columns, is handled exactly: without regularisation such a
    view makes the problem degenerate (correlations 1, as any unregularised CCA finds), with
    ``reg > 0`` the components are finite, ordered and reproducible. Choose ``reg`` by
    cross-validating :meth:`score` (``GridSearchCV`` needs no labels).

    With more than two views this is the MAXVAR generalisation (Kettenring 1971; Carroll
    1968): a shared representation ``G`` of orthonormal columns maximising
    ``sum_m ||P_m G||_F^2``, where ``P_m`` is the regularised projection onto view ``m``; each
    view's weights regress ``G`` on that view, scaled to unit variance. For two views MAXVAR
    finds the same canonical directions.

    Everything is computed from sufficient statistics of the training rows: their count, mean
    and centred cross-products, in float64, merged chunk by chunk with the pairwise update of
    Chan, Golub & LeVeque (1983). So :meth:`partial_fit` over chunks gives the same model as
    :meth:`fit` on all the rows (to rounding), in memory that does not grow with the rows
    (``O(d^2)`` for ``d`` features in all; the fitted estimator keeps these statistics, so it
    can go on learning): a call costs the chunk's cross-products, and the weights are solved
    when first needed. :meth:`fit` on a ``dask.array.Array`` computes the statistics block by
    block where the blocks live (on a ``distributed`` cluster when a client is active) and
    solves the small eigenproblem locally. Each component's sign is
    fixed: the largest weight (in absolute value) of the first view is positive, whatever the
    input's memory layout, container or float type.

    :meth:`transform` maps each row into the shared space from whichever views it has: the
    mean of the available views' canonical variates (a missing view is its whole block NaN).

    Parameters
    ----------
    n_components : int, default=2
        Number of canonical components ``k``: for two views at most the smaller view's rank;
        for more views (MAXVAR) at most the rank of the views' whitened data together, so the
        shared space may be wider than any one view.
    modalities : None, list of int or list of (str, columns) tuples, default=None
        Which columns form which view (see the :ref:`User Guide <data_model>`); ``None``
        splits the columns into two halves.
    reg : float, "ledoit_wolf" or list of those, default=0.0
        Ridge added to each view's covariance (scale it to the features' variance); or
        ``"ledoit_wolf"``, the ridge ``alpha mu / (1 - alpha)`` from the Ledoit-Wolf
        shrinkage intensity ``alpha`` and mean variance ``mu`` of the view (with this ridge
        the covariance is the Ledoit-Wolf estimate divided by ``1 - alpha``: the same
        canonical directions, and correlations that cannot exceed 1); or one such value per
        view.

    Attributes
    ----------
    weights_ : list of ndarray of shape (n_features_m, n_components)
        Canonical weights of each view.
    means_ : list of ndarray of shape (n_features_m,)
        Column means of each view.
    canonical_correlations_ : ndarray of shape (n_components,)
        The correlations, on the training rows with every view present, of the views'
        canonical variates (:meth:`transform_views`): for two views, of the pair; for more,
        the mean over view pairs. With ``reg > 0`` these are the empirical correlations of
        the regularised solution (smaller than its criterion ``r``, and not necessarily
        decreasing). ``score`` on the training rows is their mean.
    n_samples_seen_ : int
        Number of training rows with every view present (the rows the statistics hold).
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

    Vinod, H. D. Canonical ridge and econometrics of joint production. Journal of
    Econometrics 1976.

    Kettenring, J. R. Canonical analysis of several sets of variables. Biometrika 1971.

    Chan, T. F., Golub, G. H. and LeVeque, R. J. Algorithms for computing the sample
    variance: analysis and recommendations. The American Statistician 1983.

    Examples
    --------
    >>> from sklearn.datasets import load_linnerud
    >>> import numpy as np
    >>> from skmultimodal.cross_decomposition import CCA
    >>> exercise, physiology = load_linnerud(return_X_y=True)
    >>> X = np.hstack([exercise, physiology])
    >>> cca = CCA(n_components=3).fit(X)
    >>> np.round(cca.canonical_correlations_, 6)
    array([0.795608, 0.200556, 0.07257 ])

    The same model from a stream of chunks:

    >>> stream = CCA(n_components=3)
    >>> for chunk in (X[:10], X[10:]):
    ...     stream = stream.partial_fit(chunk)
    >>> bool(np.allclose(stream.weights_[0], cca.weights_[0]))
    True
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

    def _regs(self, reg):
        regs = per_modality(reg, "reg", len(self.modalities_))
        for r in regs:
            if not (r == "ledoit_wolf" or (isinstance(r, Real) and r >= 0)):
                raise ValueError(f"Each reg must be a non-negative float or 'ledoit_wolf', "
                                 f"got {r!r}.")
        return regs

    def __sklearn_is_fitted__(self):
        # cheap (never solves): whether the weights do not determine yet is _check_fitted's
        return "_moments" in self.__dict__ or self.__dict__.get("_solved") is not None

    @keep_state_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the canonical weights on the complete rows of X.

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples, n_features)
            The views' columns side by side. Rows with a missing view (a whole NaN block) are
            not used for fitting. A dask array is reduced to its statistics block by block.
        y : None
            Ignored. (A second view as a 2-D ``y``, scikit-learn's ``fit(X, Y)``, is an
            error: stack the views with :func:`~skmultimodal.stack_modalities`.)

        Returns
        -------
        self : object
            The fitted estimator.
        """
        reject_second_view(y, X, self)
        self.__dict__.pop("_moments", None)
        self._accumulate(self._moments_of(X, reset=True))
        self._solution()  # now: what prevents a solution is fit's error
        return self

    @keep_state_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Add a chunk of rows to the statistics.

        Chunk after chunk, the model equals :meth:`fit` on all the rows seen (to rounding),
        in memory that does not grow with the number of rows. A call costs the chunk's
        cross-products only: the weights are solved from the statistics when first needed
        (an attribute, :meth:`transform`, :meth:`score`), with the parameters of the last
        call. While the rows seen do not determine them (fewer than two complete rows, a
        view without variance, ``n_components`` above a view's rank) the estimator is not
        fitted, and ``transform`` raises :class:`~sklearn.exceptions.NotFittedError`
        saying why.

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
        first = "_moments" not in self.__dict__
        self._accumulate(self._moments_of(X, reset=first))
        return self

    def _moments_of(self, X, reset):
        """Validated X's complete rows reduced to their statistics, views in order."""
        X, complete = validate_views(self, X, reset=reset)
        widths = modality_widths(self.modalities_)
        if len(widths) == 2:
            for (name, _), width in zip(self.modalities_, widths):
                if self.n_components > width:
                    raise ValueError(f"n_components={self.n_components} exceeds the width "
                                     f"{width} of view {name!r}; choose at most {width}.")
        elif self.n_components > sum(widths):
            raise ValueError(f"n_components={self.n_components} exceeds the {sum(widths)} "
                             "columns of the views together; choose at most that.")
        order = np.concatenate([np.arange(self.n_features_in_)[cols]
                                for _, cols in self.modalities_])
        order = None if np.array_equal(order, np.arange(self.n_features_in_)) else order
        to_statistics = partial(_take_columns, order=order)
        widths = modality_widths(self.modalities_)
        if complete is None:
            return dask_moments(X, self.modalities_, to_statistics, widths)
        return complete_moments(X, complete, to_statistics, widths)

    def _accumulate(self, moments):
        """Merge ``moments`` into the statistics; the weights are solved when needed."""
        self._moments = self._moments.merge(moments) if "_moments" in self.__dict__ else moments
        self.n_samples_seen_ = self._moments.n
        self._solved = None
        self._regs(self.reg)  # a bad reg is this call's error, not a later attribute's
        self._solve_params = {"n_components": self.n_components, "reg": copy.copy(self.reg)}

    def _solution(self):
        """The weights, means and correlations solved from the statistics (cached)."""
        if self.__dict__.get("_solved") is None:
            if "_moments" not in self.__dict__:
                raise AttributeError(f"This {type(self).__name__} has seen no rows yet.")
            self._solved = self._solve(self._moments, **self._solve_params)
        return self._solved

    def _fitted(self, name):
        try:
            return self._solution()[name]
        except _NotDeterminedYet as error:
            raise AttributeError(f"{error} (the rows seen so far do not determine "
                                 f"{name}).") from None

    weights_ = property(lambda self: self._fitted("weights_"))
    means_ = property(lambda self: self._fitted("means_"))
    canonical_correlations_ = property(lambda self: self._fitted("canonical_correlations_"))

    def _check_fitted(self):
        if "_moments" in self.__dict__:
            try:
                self._solution()
            except _NotDeterminedYet as error:
                raise NotFittedError(f"This {type(self).__name__} is not fitted yet: {error} "
                                     "Add rows with partial_fit.") from None
        check_is_fitted(self)

    def _solve(self, moments, n_components, reg):
        """Canonical weights from the statistics.

        With each view's scatter ``X_m^T X_m = V_m diag(lam_m) V_m^T`` on the span of its data
        and ``D_m = (lam_m / (n - 1) + reg_m)^{-1/2}``, the whitened cross-covariances are
        ``K_ml = D_m V_m^T X_m^T X_l V_l D_l / (n - 1)``. Two views: ``T = K_12 = P diag(r)
        Q^T`` and ``W_1 = V_1 D_1 P_k``, ``W_2 = V_2 D_2 Q_k``. More views (MAXVAR): ``K`` is
        ``A^T A`` for the whitened data ``A = [X_1 V_1 D_1, ...] / sqrt(n - 1)``, whose top
        left singular vectors are ``G``; with ``K R = R diag(s^2)``, ``W_m = V_m D_m R_m``,
        each column scaled to unit variance.
        """
        name, n, k = type(self).__name__, moments.n, n_components
        if n < 2:
            raise _NotDeterminedYet(f"{name} needs at least 2 rows with every view present, "
                                    f"got {n}.")
        bases, cross, norm4 = moments.view_bases()
        names, n_views = [view for view, _ in self.modalities_], len(bases)
        whitening, diagonal = [], []
        for m, ((scatter, V), reg) in enumerate(zip(bases, self._regs(reg))):
            if V.shape[1] == 0:
                raise _NotDeterminedYet(f"View {names[m]!r} is constant: it has no variance to "
                                        f"correlate ({n} rows with every view present).")
            if k > V.shape[1] and n_views == 2:
                raise _NotDeterminedYet(
                    f"n_components={k} exceeds the rank {V.shape[1]} of view {names[m]!r} on "
                    f"the {n} training rows with every view present; choose at most "
                    f"{V.shape[1]}.")
            if reg == "ledoit_wolf":
                reg = ledoit_wolf_ridge(n, moments.widths[m], scatter, norm4[m])
            kept = scatter[: V.shape[1]] / (n - 1)
            whitening.append(1.0 / np.sqrt(kept + reg))
            diagonal.append(kept * whitening[-1] ** 2)  # K_mm, a diagonal matrix

        def whitened(m, o):
            return whitening[m][:, None] * cross[m, o] * whitening[o][None, :] / (n - 1)

        if n_views == 2:
            coefs = _two_view_coefficients(whitened(0, 1), k)
        else:
            coefs = _maxvar_coefficients(diagonal, whitened, k)

        def covariance(m, o):  # per component, of the variates on the training rows
            if m == o:
                return np.sum(coefs[m] ** 2 * diagonal[m][:, None], axis=0)
            a, b = min(m, o), max(m, o)
            return np.sum(coefs[a] * (whitened(a, b) @ coefs[b]), axis=0)

        weights = [V @ (D[:, None] * C)
                   for (_, V), D, C in zip(bases, whitening, coefs)]
        mean = moments.column_means()
        means = [mean[cols] for cols in moments.slices]
        # The sign convention: the largest weight of the first view is positive, or, given
        # rows of the first view (``_sign_rows``, set by estimators whose views are features),
        # the largest of their variates.
        sign_rows = self.__dict__.get("_sign_rows")
        reference = weights[0] if sign_rows is None else (sign_rows - means[0]) @ weights[0]
        # a correlation: at most 1 (rounding can pass it in degenerate, unregularised fits)
        return {"weights_": orient(weights, reference), "means_": means,
                "canonical_correlations_": np.minimum(
                    mean_pair_correlations(covariance, n_views), 1.0)}

    def _chunk_variates(self, X, missing):
        """Each view's canonical variates on a float64 chunk; NaN where the view is missing."""
        variates = []
        for m, ((_, cols), mean, W) in enumerate(zip(self.modalities_, self.means_,
                                                     self.weights_)):
            present = ~missing[:, m]
            if present.all():  # the common case: centre the view's columns, no other copy
                variates.append((X[:, cols] - mean) @ W)
                continue
            Z = np.full((X.shape[0], W.shape[1]), np.nan)
            Z[present] = (X[present][:, cols] - mean) @ W
            variates.append(Z)
        return variates


class _FeatureCCAMixin(_CanonicalVariatesMixin):
    """Inference of estimators that map each view to features and relate them by a CCA.

    The estimator defines ``_features(X, missing)`` (the views' features side by side, NaN
    blocks where a view is missing) and fits a linear :class:`CCA` ``cca_`` on the training
    features; this mixin provides ``transform``, ``transform_views`` and ``score`` from them,
    over row chunks.
    """

    def __sklearn_is_fitted__(self):
        return "cca_" in self.__dict__ and self.cca_.__sklearn_is_fitted__()

    def _check_fitted(self):
        check_is_fitted(self, "cca_")
        self.cca_._check_fitted()

    def _row_bytes(self):
        return 8 * 4 * (self.n_features_in_ + self.cca_.n_features_in_
                        + self.n_components * len(self.modalities_))

    def _chunk_variates(self, X, missing):
        return self.cca_._chunk_variates(self._features(X, missing), missing)
