"""The multimodal restricted Boltzmann machine trained by maximum likelihood (CD-k / PCD)."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._random import new_state as _new_state
from ._base import _BaseTrainedBoltzmann, dense_rows
from ._graph import Model, Trainer, init_visible


class _BaseMultimodalRBM(_BaseTrainedBoltzmann):
    """The multimodal RBM's parameters as fitted attributes (as scikit-learn's
    ``BernoulliRBM``: ``components_``, ``intercept_hidden_``, ``intercept_visible_``), its
    initialisation and likelihoods; subclasses say how a batch trains it."""

    _parameter_constraints = {
        **_BaseTrainedBoltzmann._parameter_constraints,
        "sparsity_target": [Interval(Real, 0, 1, closed="neither")],
        "sparsity_cost": [Interval(Real, 0, None, closed="left")],
    }

    def _dtype(self):
        return self.components_.dtype

    @property
    def _n_features_out(self):
        check_is_fitted(self)  # get_feature_names_out before fit: NotFittedError
        return self.n_components

    def _model(self):
        """The fitted parameters as a :class:`_graph.Model` (each modality's weights
        copied into a contiguous block)."""
        s = self._structure()
        W = [self.components_[:, cols] for cols in s.columns]
        bias = [self.intercept_visible_[cols] for cols in s.columns] + [self.intercept_hidden_]
        return Model(s, W, bias, list(self.hidden_length_bias_), self.mean_length_)

    def _store(self, model):
        s = model.s
        K = s.widths[s.top]
        W = np.empty((K, s.n_features), dtype=model.dtype)
        c = np.empty(s.n_features, dtype=model.dtype)
        for m, cols in enumerate(s.columns):
            W[:, cols] = model.W[m]
            c[cols] = model.bias[m][0]
        self.components_ = W
        self.intercept_hidden_ = model.bias[s.top][0].copy()
        self.intercept_visible_ = c
        self.hidden_length_bias_ = np.vstack([a[0] for a in model.a])
        self.mean_length_ = model.mean_length.copy()

    @property
    def modality_weights_(self):
        """dict of str to ndarray: each modality's weights, ``(n_components, n_features_m)``."""
        check_is_fitted(self)
        return {name: self.components_[:, cols] for name, cols in self.modalities_}

    @property
    def modality_intercepts_(self):
        """dict of str to ndarray: each modality's visible biases, ``(n_features_m,)``."""
        check_is_fitted(self)
        return {name: self.intercept_visible_[cols] for name, cols in self.modalities_}

    def _initial_model(self, X, missing, rng):
        """``N(0, 0.01^2)`` weights, zero hidden biases, each modality's visible bias from
        its column means on up to 10,000 rows where it is present."""
        s = self._structure()
        dtype = X.dtype
        W = (0.01 * rng.standard_normal((self.n_components, s.n_features))).astype(dtype)
        zeros = np.zeros(self.n_components, dtype=dtype)
        model = Model(s, [W[:, cols] for cols in s.columns],
                      [np.zeros(w, dtype) for w in s.widths[:-1]] + [zeros],
                      [zeros] * s.n_modalities, np.zeros(s.n_modalities, dtype))
        sample = rng.permutation(X.shape[0])[:10000]
        blocks = []
        for m, cols in enumerate(s.columns):
            rows = sample[~missing[sample, m]]
            blocks.append(dense_rows(X, rows, dtype)[:, cols])
        init_visible(model, blocks)
        return model

    def _resample(self):
        return np.array([self.resample_binary and u.name == "binary"
                         for u in self._unit_types])

    def free_energy(self, X):
        """Free energy ``F(v) = -log sum_h exp(-E(v, h))`` of complete rows.

        ``log p(v) = -F(v) - log Z``; lower free energy means more probable.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Complete data (no missing modality).

        Returns
        -------
        F : ndarray of shape (n_samples,)
            Free energies, float64.
        """
        X, missing = self._complete(X, "free_energy")
        model = self._model()
        F = np.empty(X.shape[0], dtype=np.float64)
        for chunk, v, _ in self._chunks(X, missing):
            F[chunk] = model.free_energy(v)
        return F

    def score_samples(self, X):
        """Cross-modal log-likelihood of each row: ``sum_m log p(v_m | v_{-m})``.

        Each present modality in turn is hidden and inferred by mean-field (Sohn, Shang &
        Lee 2014, Eq. 8) from the other modalities present in the row; its observed values
        are scored under the factorised conditional of its units (Bernoulli cross-entropy,
        unit-variance Gaussian density, multinomial probability of the counts at the row's
        document length). This is the mean-field estimate of the negative variation of
        information objective (Eq. 2), the quantity that matters when a modality is missing
        at prediction time; unlike the likelihood it needs no partition function, so it
        compares models and hyper-parameters.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data; missing modalities are whole NaN blocks and are not scored.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Per-row log-likelihoods (nats), higher is better.
        """
        return self._cross_modal_scores(X)


class MultimodalRBM(_BaseMultimodalRBM):
    """Multimodal restricted Boltzmann machine trained by maximum likelihood.

    One layer of binary hidden units shared by all modalities (Sohn, Shang & Lee 2014,
    Eq. 5-7)::

        P(h_k = 1 | v) = sigmoid(sum_m W_m[k] . v_m + b_k + sum_m D_m a_mk)      (Eq. 6)
        p(v_m | h)     = the modality's unit type with mean units(W_m^T h + c_m) (Eq. 7)

    trained by stochastic gradient ascent on the log-likelihood, the model statistics
    estimated by contrastive divergence (``method="cd"``, k Gibbs steps from the data) or
    persistent contrastive divergence (``method="pcd"``, ``n_chains`` persistent chains,
    independent of the batch size). Each modality has its own visible unit type: ``binary``,
    unit-variance ``gaussian`` (standardise those features) or ``replicated_softmax`` for
    word counts, whose document length scales a hidden bias of its own.

    :meth:`transform` returns the joint hidden posterior from whichever modalities a row has;
    a missing modality (its whole block NaN) is inferred by mean-field (Eq. 8).

    Read more in the :ref:`User Guide <data_model>`.

    Parameters
    ----------
    n_components : int, default=256
        Number of hidden units (the width of the joint representation).
    modalities : None, list of int or list of (str, columns) tuples, default=None
        Which columns form which modality. ``None``: two modalities, the first
        ``n_features // 2`` columns and the rest. A list of ints gives consecutive block
        widths; ``(name, columns)`` pairs give columns as a slice, int indices or DataFrame
        column names. Every column belongs to exactly one modality.
    visible_units : {"auto", "gaussian", "binary", "replicated_softmax"}, VisibleUnits \
            or list, default="auto"
        Unit type of every modality, or one per modality. ``"auto"`` takes binary units for
        a modality whose values all lie in [0, 1] (pixels, probabilities) and unit-variance
        Gaussian units otherwise (standardise such features: fit warns when they are far
        from it). Binary units read values in between as probabilities; Replicated Softmax
        units take non-negative word counts. A :class:`~skmultimodal.boltzmann.VisibleUnits`
        instance is a unit type of your own.
    method : {"cd", "pcd"}, default="cd"
        Contrastive divergence with ``k`` steps from the data, or persistent contrastive
        divergence with ``k`` steps per update of ``n_chains`` persistent chains.
    k : int, default=1
        Number of Gibbs steps per update.
    n_chains : int, default=100
        Number of persistent chains (``method="pcd"`` only).
    learning_rate : float, default=0.01
        Step size of the updates (the gradients are means over the batch).
    learning_rate_decay : float, default=0.0
        The step size of epoch ``t`` (counted from 0 over all calls to :meth:`fit` with
        ``warm_start`` and :meth:`partial_fit`) is ``learning_rate / (1 + learning_rate_decay
        * t)``.
    batch_size : int, default=32
        Number of rows per mini-batch; the last, shorter batch is scaled by its own size.
    n_iter : int or "auto", default="auto"
        Number of epochs of :meth:`fit`; rows are reshuffled every epoch. ``"auto"`` holds
        out ``validation_fraction`` of the rows (at most 2,000) and trains until their
        :meth:`score` (the cross-modal log-likelihood) has not improved by 0.1% for
        ``n_iter_no_change`` epochs and at least 1,000 updates, or for at most 20,000
        updates, keeping the parameters of the best held-out score.
    validation_fraction : float, default=0.1
        Fraction of the rows held out by ``n_iter="auto"``.
    n_iter_no_change : int, default=10
        Epochs without improvement that stop ``n_iter="auto"``.
    momentum : float, default=0.5
        Momentum of the parameter updates, in [0, 1).
    weight_decay : float, default=1e-4
        L2 penalty on the weights.
    resample_binary : bool, default=False
        If True, the values of binary modalities (probabilities in [0, 1], e.g. grey
        levels) are redrawn as 0/1 samples in every mini-batch: stochastic binarisation,
        a regulariser Sohn, Shang & Lee (2014) used on MNIST.
    sparsity_target : float, default=0.1
        Target mean activation of each hidden unit, in (0, 1).
    sparsity_cost : float, default=0.0
        Weight of the sparsity penalty ``||mean_activation - sparsity_target||^2 / 2`` on the
        hidden biases (Lee, Ekanadham & Ng 2008); 0 switches it off.
    n_mean_field : int, default=20
        Maximum number of mean-field iterations when inferring missing modalities. The
        first hidden estimate comes from the present modalities alone, their input scaled by
        ``n_modalities / n_present`` in place of the missing ones (as in the code of Sohn,
        Shang & Lee 2014).
    mean_field_tol : float, default=1e-5
        A row's mean-field stops when none of its hidden probabilities (nor its missing
        values) moves by more than this in an iteration; rows converge independently, so a
        row's result does not depend on the batch it is in.
    warm_start : bool, default=False
        If True, :meth:`fit` continues from the previous solution.
    verbose : int, default=0
        If positive, print the reconstruction error and time of every epoch.
    random_state : int, RandomState instance or None, default=None
        Seed of the initial weights, the shuffling and the Gibbs sampling. An int makes fits
        exactly reproducible.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        Weights between hidden units and all visible columns (``W``, in X's column order).
    intercept_hidden_ : ndarray of shape (n_components,)
        Hidden biases ``b``.
    intercept_visible_ : ndarray of shape (n_features,)
        Visible biases ``c``.
    hidden_length_bias_ : ndarray of shape (n_modalities, n_components)
        Length-scaled hidden biases ``a_m`` of Replicated Softmax modalities (zero rows for
        the other unit types).
    mean_length_ : ndarray of shape (n_modalities,)
        Mean document length of each Replicated Softmax modality in the first training data
        (0 for the others), used when such a modality is missing.
    modalities_ : list of (str, slice or ndarray)
        The resolved modality specification.
    visible_units_ : list of str
        Unit type of each modality.
    modality_weights_ : dict of str to ndarray
        Each modality's block of ``components_``.
    modality_intercepts_ : dict of str to ndarray
        Each modality's block of ``intercept_visible_``.
    n_iter_ : int
        Number of epochs trained so far.
    reconstruction_error_curve_ : list of float
        Per epoch, the mean squared error of the one-step mean-field reconstruction of up to
        256 training rows spread evenly over X (a monitor, not the training objective).
    validation_scores_ : list of float or None
        With ``n_iter="auto"``, the held-out :meth:`score` of every epoch; None otherwise.
    best_validation_score_ : float or None
        The best of ``validation_scores_``, whose parameters the model keeps.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    sklearn.neural_network.BernoulliRBM : A one-modality binary RBM.
    skmultimodal.ModalityImputer : Fill missing modalities for any downstream model.

    Notes
    -----
    Rows with a missing modality are used at fit time: their missing blocks are filled by
    mean-field inference under the current model, which gives the positive statistics of the
    variational lower bound on the marginal likelihood of the observed modalities (as in the
    training of deep Boltzmann machines); the negative phase is unchanged.

    Float32 input is trained in float32, the fast path; the matrix products dominate the cost
    and sampling is fused into numba kernels.

    The fitted attributes of the one-hidden-layer models (this one, :class:`MinVIRBM`,
    :class:`SSLRBM`) follow scikit-learn's ``BernoulliRBM``: one weight matrix
    ``components_`` and bias vectors. The deep models (:class:`MultimodalDBM`,
    :class:`MultimodalDBN`) follow ``MLPClassifier``: one array per edge in ``coefs_`` and per
    hidden layer in ``intercepts_hidden_``; their ``components_`` is, as here, the weights into
    the layer :meth:`transform` returns.

    References
    ----------
    Sohn, K., Shang, W. and Lee, H. Improved multimodal deep learning with variation of
    information. NIPS 2014.

    Srivastava, N. and Salakhutdinov, R. Multimodal learning with deep Boltzmann machines.
    NIPS 2012.

    Salakhutdinov, R. and Hinton, G. Replicated softmax: an undirected topic model. NIPS 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from skmultimodal import MultimodalRBM
    >>> from skmultimodal.datasets import load_digits_halves
    >>> X, y = load_digits_halves(return_X_y=True)
    >>> rbm = MultimodalRBM(n_components=64, visible_units="binary", learning_rate=0.05,
    ...                     n_iter=5, random_state=0).fit(X)
    >>> X_left_only = X.copy()
    >>> X_left_only[:, 32:] = np.nan  # the right halves are missing
    >>> rbm.transform(X_left_only).shape
    (1797, 64)
    >>> rbm.impute(X_left_only[:2]).shape
    (2, 64)
    """

    _parameter_constraints = {
        **_BaseMultimodalRBM._parameter_constraints,
        "method": [StrOptions({"cd", "pcd"})],
        "k": [Interval(Integral, 1, None, closed="left")],
        "n_chains": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_components=256,
        *,
        modalities=None,
        visible_units="auto",
        method="cd",
        k=1,
        n_chains=100,
        learning_rate=0.01,
        learning_rate_decay=0.0,
        batch_size=32,
        n_iter="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        momentum=0.5,
        weight_decay=1e-4,
        resample_binary=False,
        sparsity_target=0.1,
        sparsity_cost=0.0,
        n_mean_field=20,
        mean_field_tol=1e-5,
        warm_start=False,
        verbose=0,
        random_state=None,
    ):
        self.n_components = n_components
        self.modalities = modalities
        self.visible_units = visible_units
        self.method = method
        self.k = k
        self.n_chains = n_chains
        self.learning_rate = learning_rate
        self.learning_rate_decay = learning_rate_decay
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.resample_binary = resample_binary
        self.sparsity_target = sparsity_target
        self.sparsity_cost = sparsity_cost
        self.n_mean_field = n_mean_field
        self.mean_field_tol = mean_field_tol
        self.warm_start = warm_start
        self.verbose = verbose
        self.random_state = random_state

    def _new_optimizer(self, model, X, missing, rng):
        """Contrastive divergence (chains started at the batch) or PCD (``n_chains``
        persistent chains), the model statistics from the chains' hidden probabilities."""
        persisted = self._persist or {}
        velocity = persisted.get("velocity")
        trainer = Trainer(
            model, batch_size=self.batch_size, k=self.k, cd=self.method == "cd",
            rao_blackwell=True, n_iter=self.n_mean_field, tol=self.mean_field_tol,
            momentum=self.momentum, weight_decay=self.weight_decay,
            sparsity_target=self.sparsity_target, sparsity_cost=self.sparsity_cost,
            velocity=None if velocity is None else [v.copy() for v in velocity],
            resample=self._resample(),
        )
        if self.method == "pcd":
            chains = persisted.get("chains")
            if chains is None or chains[0][0].shape[0] != self.n_chains:
                chains = self._new_chains(model, X, missing, rng)
            trainer.set_chains([x.copy() for x in chains[0]], chains[1].copy())
        return trainer

    def _new_chains(self, model, X, missing, rng):
        """``n_chains`` chains started at the visible-bias-only model (the data's marginals,
        after the bias initialisation) with document lengths of random training rows, their
        hidden units drawn given that visible sample."""
        s, n, dtype = model.s, self.n_chains, model.dtype
        L = np.zeros((n, s.n_modalities), dtype=dtype)
        for m, (cols, units) in enumerate(zip(s.columns, s.units)):
            if units.has_length:
                rows = rng.choice(np.flatnonzero(~missing[:, m]), size=n)
                L[:, m] = units.length(dense_rows(X, rows, dtype)[:, cols])
        x = [np.empty((n, w), dtype) for w in s.widths[:-1]] + [np.zeros((n, s.widths[-1]),
                                                                        dtype)]
        state = _new_state(rng)
        model.gibbs(x, L, state, order="even")
        return x, L


