"""Transformers that fill in missing modalities."""

from sklearn.base import (
    BaseEstimator,
    OneToOneFeatureMixin,
    TransformerMixin,
    _fit_context,
    clone,
)
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import check_is_fitted, validate_data

from ._modalities import reject_second_view
from ._utils import keep_state_on_error

__all__ = ["ModalityImputer"]


class ModalityImputer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Fill missing modalities with a generative model's expectations.

    Wraps any estimator that has an ``impute`` method (e.g. :class:`MultimodalRBM`): ``fit``
    fits a clone of it on X, ``transform`` returns X with each missing modality (a whole NaN
    block) replaced by the model's inference from the modalities the row has. Any
    downstream model can then consume complete data, e.g. in a
    :class:`~sklearn.pipeline.Pipeline`.

    Parameters
    ----------
    estimator : estimator object
        An unfitted estimator with ``fit`` and ``impute`` methods. Its ``modalities``
        parameter says which columns form which modality.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted clone of ``estimator``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    MultimodalRBM.impute : The mean-field imputation used by the default pipeline.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from skmultimodal import ModalityImputer, MultimodalRBM
    >>> from skmultimodal.datasets import load_digits_halves
    >>> X, y = load_digits_halves(return_X_y=True)
    >>> imputer = ModalityImputer(MultimodalRBM(n_components=32, visible_units="binary",
    ...                                         n_iter=3, random_state=0))
    >>> model = make_pipeline(imputer, LogisticRegression(max_iter=200)).fit(X, y)
    >>> X_right_missing = X[:5].copy()
    >>> X_right_missing[:, 32:] = np.nan
    >>> model.predict(X_right_missing).shape
    (5,)
    """

    _parameter_constraints = {"estimator": [HasMethods(["fit", "impute"])]}

    def __init__(self, estimator):
        self.estimator = estimator

    @keep_state_on_error
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit a clone of the estimator on X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data with missing modalities as whole NaN blocks.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted imputer.
        """
        reject_second_view(y, X, self)
        validate_data(self, X, accept_sparse="csr", ensure_all_finite=False, reset=True,
                      dtype=None)
        self.estimator_ = clone(self.estimator).fit(X)
        return self

    def transform(self, X):
        """Return X with missing modalities filled in.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data with missing modalities as whole NaN blocks.

        Returns
        -------
        X_imputed : ndarray of shape (n_samples, n_features)
            Dense data without NaN.
        """
        check_is_fitted(self)
        validate_data(self, X, accept_sparse="csr", ensure_all_finite=False, reset=False,
                      dtype=None)
        return self.estimator_.impute(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

