"""The multimodal deep Boltzmann machine (Srivastava & Salakhutdinov 2012)."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._random import new_state
from ._ais import ais_log_partition, base_rate_bias
from ._base import _BaseTrainedBoltzmann, dense_rows
from ._graph import Model, Trainer, check_pathways
from ._stack import pretrain


def model_from_stack(structure, stack, dtype):
    """DBM parameters from the pretrained stack (``_stack.pretrain``): the RBMs' weights,
    and for every hidden layer between two RBMs the mean of its hidden bias in the lower RBM
    and its visible bias in the upper one (each conditional of the DBM then averages the two
    RBMs' inputs)."""
    s = structure
    M = s.n_modalities
    W = [rbm.W[j].copy() for rbm, j in stack]
    bias = [None] * len(s.widths)
    a = [None] * M
    mean_length = np.zeros(M, dtype)
    for e, (lo, up) in enumerate(s.edges):
        rbm, j = stack[e]
        if lo < M:
            bias[lo] = rbm.bias[j].copy()
            a[lo] = rbm.a[j].copy()
            mean_length[lo] = rbm.mean_length[j]
        bias[up] = rbm.bias[rbm.s.top].copy()
    for e, (lo, up) in enumerate(s.edges):
        if lo >= M:
            rbm, j = stack[e]
            bias[lo] = 0.5 * (bias[lo] + rbm.bias[j])
    return Model(s, W, bias, a, mean_length)


class _PathwaysMixin:
    """What the estimators with modality pathways under a joint top layer share (the DBM and
    the DBN): the layer structure with its public names, the output width and the views of
    the fitted weights. ``_bipartite`` says whether every pathway needs a depth of one
    parity."""

    _bipartite = True

    def _pathway_structure(self):
        pathways = check_pathways(self.pathways, len(self.modalities_))
        return self._structure(pathways, bipartite=self._bipartite), pathways

    def _dtype(self):
        return self.coefs_[0].dtype

    def _transformed_layers(self, model):
        return [model.s.top] if self.output == "top" else model.s.hidden

    @property
    def _n_features_out(self):
        check_is_fitted(self)  # get_feature_names_out before fit: NotFittedError
        if self.output == "top":
            return self.n_components
        s, _ = self._pathway_structure()
        return sum(s.widths[i] for i in s.hidden)

    def _store_names(self, s):
        self.layer_names_ = s.layer_names([name for name, _ in self.modalities_])
        self.edges_ = [(self.layer_names_[lo], self.layer_names_[up]) for lo, up in s.edges]

    @property
    def components_(self):
        """ndarray: the weights into the top layer (the joint representation) from every
        pathway's last layer, side by side (the blocks of ``coefs_``), ``(n_components,
        n_top_inputs)``."""
        check_is_fitted(self, "coefs_")
        s, _ = self._pathway_structure()
        return np.hstack([self.coefs_[s.up[t][-1]] for t in s.pathway_tops])

    @property
    def modality_weights_(self):
        """dict of str to ndarray: each modality's first-layer weights."""
        check_is_fitted(self)
        s, _ = self._pathway_structure()
        return {name: self.coefs_[s.up[m][0]] for m, (name, _) in enumerate(self.modalities_)}


class MultimodalDBM(_PathwaysMixin, _BaseTrainedBoltzmann):
    """Multimodal deep Boltzmann machine (Srivastava & Salakhutdinov 2012).

    Each modality has a pathway of hidden layers (``pathways``), and a joint top layer of
    ``n_components`` binary units is connected to the last layer of every pathway. Visible
    unit types are chosen per modality as in :class:`MultimodalRBM` (Gaussian image features,
    Replicated Softmax word counts, binary pixels). With all layers ``x``::

        E(x) = - sum_edges x_upper^T W_e x_lower - sum_l b_l^T h_l - sum_m D_m a_m^T h_m1
               + sum_m U_m(v_m; c_m)

    Training has two stages (Srivastava & Salakhutdinov 2012):

    1. greedy layerwise pretraining of each pathway's stack of RBMs and of the joint RBM
       with PCD, ``n_iter_pretrain`` epochs per layer at ``learning_rate_pretrain``, with
       doubled inputs for the units that in the DBM also receive input from the other side
       (Salakhutdinov & Hinton 2009); the DBM starts from the stacked weights;
    2. ``n_iter`` epochs of joint training: the data-dependent statistics by mean-field
       (the fixed-point equations iterated to ``mean_field_tol`` or ``n_mean_field`` sweeps),
       the model statistics from ``n_chains`` persistent Gibbs chains (independent of the
       batch size; stochastic approximation), with the learning rate
       ``learning_rate / (1 + learning_rate_decay * t)`` in epoch ``t``, ten times smaller
       than the pretraining rate by default (see ``learning_rate_pretrain``).

    :meth:`transform` returns the top layer's mean-field posterior given whichever modalities
    a row has, the missing ones inferred jointly in the same mean-field loop; :meth:`impute`
    and :meth:`sample` fill missing modalities; :meth:`score_samples` is a variational lower
    bound of ``log p(v)`` with ``log Z`` estimated by annealed importance sampling.

    Read more in the :ref:`User Guide <data_model>`.

    Parameters
    ----------
    n_components : int, default=256
        Number of units of the joint top layer (the width of the representation).
    pathways : tuple of int, or list of tuples of int, default=(256, 256)
        Widths of the hidden layers of each modality's pathway, bottom-up: one tuple for
        every modality, or one tuple per modality. All pathways need a number of layers of
        the same parity (the model must be bipartite).
    modalities : None, list of int or list of (str, columns) tuples, default=None
        Which columns form which modality (see :class:`MultimodalRBM`).
    visible_units : {"auto", "gaussian", "binary", "replicated_softmax"}, VisibleUnits \
            or list, default="auto"
        Unit type of every modality, or one per modality. ``"auto"`` takes binary units for
        a modality whose values all lie in [0, 1] (pixels, probabilities) and unit-variance
        Gaussian units otherwise (standardise such features: fit warns when they are far
        from it). Binary units read values in between as probabilities; Replicated Softmax
        units take non-negative word counts. A :class:`~skmultimodal.boltzmann.VisibleUnits`
        instance is a unit type of your own.
    n_chains : int, default=100
        Number of persistent chains, in pretraining and in joint training.
    k : int, default=1
        Gibbs sweeps of the persistent chains per update.
    learning_rate : float, default=0.005
        Step size of the joint-training updates (gradients are means over the batch and
        over the chains).
    learning_rate_pretrain : float, default=0.05
        Step size of the layerwise pretraining. Joint training needs a much smaller step
        than pretraining: at the pretraining rate the stochastic approximation steadily
        shrinks the joint layer's weights until its posterior no longer depends on the
        data (the top layer falls out of use and a missing modality is inferred as the
        same prior guess for every row); a rate ten times smaller keeps it in use and
        improves the cross-modal inference of the pretrained stack.
    learning_rate_decay : float, default=0.1
        Epoch ``t`` of joint training (counted from 0 over all calls of :meth:`fit` with
        ``warm_start`` and :meth:`partial_fit`) uses ``learning_rate / (1 +
        learning_rate_decay * t)``; pretraining uses ``learning_rate_pretrain``.
    batch_size : int, default=32
        Rows per mini-batch.
    n_iter_pretrain : int or "auto", default="auto"
        Epochs of PCD per RBM of the stack (0 skips pretraining: small random weights).
        ``"auto"`` trains each RBM until the reconstruction error of its training rows has
        not improved by 0.1% for ``n_iter_no_change`` epochs and at least 1,000 updates,
        or for at most 20,000 updates.
    n_iter : int or "auto", default="auto"
        Epochs of joint training by :meth:`fit` (0: the pretrained stack only).
        ``"auto"`` holds out ``validation_fraction`` of the rows (at most 2,000) and trains
        until their cross-modal log-likelihood (each present modality inferred from the
        others by mean-field, as :meth:`MultimodalRBM.score_samples`) has not improved by
        0.1% for ``n_iter_no_change`` epochs and at least 1,000 updates, or for at most
        20,000 updates, keeping the parameters of the best held-out score. (Pretraining
        sees every row.)
    validation_fraction : float, default=0.1
        Fraction of the rows held out by ``n_iter="auto"``.
    n_iter_no_change : int, default=10
        Epochs without improvement that stop ``n_iter="auto"`` and
        ``n_iter_pretrain="auto"``.
    momentum : float, default=0.5
        Momentum of the parameter updates.
    weight_decay : float, default=1e-4
        L2 penalty on the weights.
    resample_binary : bool, default=False
        If True, binary modalities' values (probabilities such as grey levels) are redrawn
        as 0/1 samples in every mini-batch of joint training.
    n_mean_field : int, default=20
        Cap on the mean-field sweeps.
    mean_field_tol : float, default=1e-4
        A row's mean-field stops when none of its hidden probabilities (nor its missing
        values) moves by more than this in a sweep; rows converge independently, so a
        row's result does not depend on the batch it is in.
    output : {"top", "all"}, default="top"
        What :meth:`transform` returns: the top layer, or every hidden layer side by side
        (each pathway's layers bottom-up, modality by modality, then the top layer).
    n_ais_runs : int, default=100
        AIS runs used by :meth:`score_samples`.
    n_ais_betas : int, default=14500
        Intermediate distributions of AIS (spaced as Salakhutdinov & Murray 2008).
    warm_start : bool, default=False
        If True, :meth:`fit` continues joint training from the previous solution.
    verbose : int, default=0
        If positive, print a progress line per epoch.
    random_state : int, RandomState instance or None, default=None
        Seed of initialisation, shuffling and sampling.

    Attributes
    ----------
    layer_names_ : list of str
        Names of the layers: ``v0..`` visible (one per modality), ``h{m}_{l}`` the hidden
        layers of pathway ``m``, ``top``.
    edges_ : list of (str, str)
        The connected layer pairs (lower, upper), in the order of ``coefs_``.
    coefs_ : list of ndarray
        Weights of each edge, of shape ``(width_upper, width_lower)``.
    intercepts_hidden_ : list of ndarray
        Biases of the hidden layers, in the order of ``layer_names_`` (hidden ones).
    intercept_visible_ : ndarray of shape (n_features,)
        Visible biases, in X's column order.
    hidden_length_bias_ : list of ndarray
        Per modality, the length-scaled bias of the layer above it (zeros unless
        Replicated Softmax).
    components_ : ndarray of shape (n_components, n_top_inputs)
        The weights into the top layer from every pathway's last layer, side by side.
    mean_length_ : ndarray of shape (n_modalities,)
        Mean document length of each Replicated Softmax modality (0 for the others).
    modalities_ : list of (str, slice or ndarray)
        The resolved modality specification.
    visible_units_ : list of str
        Unit type of each modality.
    n_iter_ : int
        Epochs of joint training done.
    reconstruction_error_curve_ : list of float
        Per joint-training epoch, the mean squared error of the mean-field reconstruction of
        up to 256 training rows.
    validation_scores_ : list of float or None
        With ``n_iter="auto"``, the held-out cross-modal log-likelihood of every joint
        training epoch; None otherwise.
    best_validation_score_ : float or None
        The best of ``validation_scores_``, whose parameters the model keeps.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    MultimodalRBM : One joint hidden layer.
    skmultimodal.ModalityImputer : Fill missing modalities for any downstream model.

    Notes
    -----
    The Replicated Softmax energy is the standard form of Salakhutdinov & Hinton (2009) (see
    ``skmultimodal.boltzmann._units``).

    The fitted attributes follow ``MLPClassifier`` (one array per edge in ``coefs_``, per
    hidden layer in ``intercepts_hidden_``), where the one-hidden-layer models follow
    ``BernoulliRBM``; ``components_`` is in both the weights into the layer
    :meth:`transform` returns (here the top layer's, from the pathways' last layers).

    Three choices keep the top layer in use, without which a missing modality is inferred
    as the same prior guess for every row (found on eight-word tag documents): the RBMs of
    the stack start from ``N(0, 1 / (n_upper + n_lower))`` weights rather than the
    customary ``N(0, 0.01^2)``, which left the text layer and the joint layer above it in a
    plateau for tens of epochs; joint training runs at a tenth of the pretraining rate; and
    the step of an RBM with Gaussian visible units is capped at ``2 (1 + momentum) /
    n_hidden``, the stability limit of its quadratic term, so that wide Gaussian layers
    can be pretrained at the rate the other layers need. float32 input is the fast path
    (every array follows the input's dtype).

    References
    ----------
    Srivastava, N. and Salakhutdinov, R. Multimodal learning with deep Boltzmann machines.
    NIPS 2012.

    Salakhutdinov, R. and Hinton, G. Deep Boltzmann machines. AISTATS 2009.

    Salakhutdinov, R. and Murray, I. On the quantitative analysis of deep belief networks.
    ICML 2008.

    Examples
    --------
    >>> import numpy as np
    >>> from skmultimodal import MultimodalDBM
    >>> from skmultimodal.datasets import load_digits_halves
    >>> X, y = load_digits_halves(return_X_y=True)
    >>> dbm = MultimodalDBM(n_components=32, pathways=(32,), visible_units="binary",
    ...                     learning_rate=0.05, n_iter_pretrain=3, n_iter=2,
    ...                     random_state=0).fit(X)
    >>> X_left_only = X.copy()
    >>> X_left_only[:, 32:] = np.nan  # the right halves are missing
    >>> dbm.transform(X_left_only).shape
    (1797, 32)
    >>> dbm.impute(X_left_only[:2]).shape
    (2, 64)
    """

    _parameter_constraints = {
        **_BaseTrainedBoltzmann._parameter_constraints,
        "pathways": [list, tuple],
        "n_chains": [Interval(Integral, 1, None, closed="left")],
        "k": [Interval(Integral, 1, None, closed="left")],
        "n_iter_pretrain": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "learning_rate_pretrain": [Interval(Real, 0, None, closed="neither")],
        "n_iter": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "output": [StrOptions({"top", "all"})],
        "n_ais_runs": [Interval(Integral, 2, None, closed="left")],
        "n_ais_betas": [Interval(Integral, 3, None, closed="left")],
    }

    def __init__(
        self,
        n_components=256,
        *,
        pathways=(256, 256),
        modalities=None,
        visible_units="auto",
        n_chains=100,
        k=1,
        learning_rate=0.005,
        learning_rate_pretrain=0.05,
        learning_rate_decay=0.1,
        batch_size=32,
        n_iter_pretrain="auto",
        n_iter="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        momentum=0.5,
        weight_decay=1e-4,
        resample_binary=False,
        n_mean_field=20,
        mean_field_tol=1e-4,
        output="top",
        n_ais_runs=100,
        n_ais_betas=14500,
        warm_start=False,
        verbose=0,
        random_state=None,
    ):
        self.n_components = n_components
        self.pathways = pathways
        self.modalities = modalities
        self.visible_units = visible_units
        self.n_chains = n_chains
        self.k = k
        self.learning_rate = learning_rate
        self.learning_rate_pretrain = learning_rate_pretrain
        self.learning_rate_decay = learning_rate_decay
        self.batch_size = batch_size
        self.n_iter_pretrain = n_iter_pretrain
        self.n_iter = n_iter
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.resample_binary = resample_binary
        self.n_mean_field = n_mean_field
        self.mean_field_tol = mean_field_tol
        self.output = output
        self.n_ais_runs = n_ais_runs
        self.n_ais_betas = n_ais_betas
        self.warm_start = warm_start
        self.verbose = verbose
        self.random_state = random_state

    # -- structure and fitted state ----------------------------------------------------------

    def _model(self):
        s, _ = self._pathway_structure()
        bias = [self.intercept_visible_[cols] for cols in s.columns] + \
            list(self.intercepts_hidden_)
        return Model(s, list(self.coefs_), bias, list(self.hidden_length_bias_),
                     self.mean_length_)

    def _store(self, model):
        s = model.s
        self._store_names(s)
        self.coefs_ = list(model.W)
        self.intercepts_hidden_ = [model.bias[i][0] for i in s.hidden]
        c = np.empty(s.n_features, dtype=model.dtype)
        for m, cols in enumerate(s.columns):
            c[cols] = model.bias[m][0]
        self.intercept_visible_ = c
        self.hidden_length_bias_ = [a[0] for a in model.a]
        self.mean_length_ = model.mean_length
        self._ais_cache = {}

    # -- initialisation: layerwise pretraining ----------------------------------------------

    def _initial_model(self, X, missing, rng):
        s, pathways = self._pathway_structure()
        state = new_state(rng)
        with np.errstate(over="ignore", invalid="ignore"):
            stack = pretrain(self, X, missing, s, pathways, rng, state,
                             (self.n_iter_pretrain, "n_iter_pretrain",
                              self.learning_rate_pretrain, "learning_rate_pretrain"))
        return model_from_stack(s, stack, X.dtype)

    # -- joint training -----------------------------------------------------------------------

    def _new_optimizer(self, model, X, missing, rng):
        """Stochastic approximation (Salakhutdinov & Hinton 2009): the data statistics by
        mean-field, the model statistics from ``n_chains`` persistent chains' sampled states.
        New chains start at the mean-field posterior of ``n_chains`` random training rows,
        their hidden layers sampled."""
        persisted = self._persist or {}
        velocity = persisted.get("velocity")
        trainer = Trainer(
            model, batch_size=self.batch_size, k=self.k, cd=False, rao_blackwell=False,
            n_iter=self.n_mean_field, tol=self.mean_field_tol, momentum=self.momentum,
            weight_decay=self.weight_decay,
            velocity=None if velocity is None else [v.copy() for v in velocity],
            resample=np.array([self.resample_binary and u.name == "binary"
                               for u in self._unit_types]),
        )
        chains = persisted.get("chains")
        if chains is None or chains[0][0].shape[0] != self.n_chains:
            rows = rng.choice(X.shape[0], size=self.n_chains)
            v = dense_rows(X, rows, model.dtype)
            x, L = model.mean_field(v, missing[rows], self.n_mean_field, self.mean_field_tol)
            model.sample_hidden(x, new_state(rng))
            chains = (x, np.round(L))
        trainer.set_chains([x.copy() for x in chains[0]], chains[1].copy())
        return trainer

    # -- likelihood ----------------------------------------------------------------------------

    def free_energy(self, X):
        """Variational free energy ``E_q[E(v, h)] - H(q)`` of complete rows.

        ``q`` is the mean-field posterior; the result is an upper bound of the free energy
        ``-log sum_h exp(-E(v, h))`` (exact when q is the true posterior), so
        ``-free_energy(X) - log Z`` is a lower bound of ``log p(v)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Complete data.

        Returns
        -------
        F : ndarray of shape (n_samples,)
            Variational free energies, float64.
        """
        X, missing = self._complete(X, "free_energy")
        model = self._model()
        F = np.empty(X.shape[0], dtype=np.float64)
        for chunk, v, _ in self._chunks(X, missing):
            F[chunk] = model.variational_free_energy(v, self.n_mean_field, self.mean_field_tol)
        return F

    def log_partition(self, X=None, *, lengths=None, n_runs=None, n_betas=None,
                      random_state=None):
        """AIS estimate of ``log Z`` (Salakhutdinov & Hinton 2009).

        The odd layers are summed out analytically and AIS (see
        ``skmultimodal.boltzmann._ais``) runs on the even layers, from a base-rate model
        fitted to the marginals of ``X`` (visible units) and of its mean-field posterior
        (even hidden layers).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), default=None
            Data for the base-rate model; None uses the model's own biases.
        lengths : array-like of shape (n_modalities,) or (n_settings, n_modalities)
            Document lengths of the Replicated Softmax modalities (``Z`` depends on them).
        n_runs, n_betas : int, default=None
            AIS runs and intermediate distributions; default ``n_ais_runs``,
            ``n_ais_betas``.
        random_state : int, Generator or None, default=None
            Seed of the runs; default the estimator's ``random_state``.

        Returns
        -------
        result : AISResult
            ``log_z`` with its spread (``log_z_low``, ``log_z_high``) and the log-weights.
        """
        check_is_fitted(self)
        model = self._model()
        rbm, even = model.as_rbm()
        if X is None:
            base = np.concatenate([b[0] for b in rbm.bias[:-1]]).astype(np.float64)
        else:
            X, missing = self._validate_input(X, reset=False)
            rows = np.flatnonzero(~missing.any(axis=1))[:2000]
            v = dense_rows(X, rows, model.dtype)
            x, _ = model.mean_field(v, missing[rows], self.n_mean_field, self.mean_field_tol)
            base = base_rate_bias(rbm, np.hstack([x[i] for i in even]))
        if lengths is not None:
            lengths = np.asarray(lengths, dtype=np.float64)
            pad = np.zeros(lengths.shape[:-1] + (len(even) - model.s.n_modalities,))
            lengths = np.concatenate([lengths, pad], axis=-1)
        return ais_log_partition(
            rbm, base, betas=self.n_ais_betas if n_betas is None else n_betas,
            n_runs=self.n_ais_runs if n_runs is None else n_runs, lengths=lengths,
            random_state=self.random_state if random_state is None else random_state,
        )

    def score_samples(self, X):
        """Variational lower bound of ``log p(v)`` per complete row, with AIS ``log Z``.

        ``log p(v) >= -F_q(v) - log Z`` (see :meth:`free_energy`), plus the log multinomial
        coefficient of Replicated Softmax counts. ``log Z`` comes from :meth:`log_partition`
        with ``n_ais_runs`` and ``n_ais_betas`` (base-rate model from the estimator's own
        biases, seeded by ``random_state``), computed once per fitted model and document
        length and cached.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Complete data (no missing modality).

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Lower bounds of the log-likelihood (nats), higher is better.
        """
        X, missing = self._complete(X, "score_samples")
        model = self._model()
        s = model.s
        scores = np.empty(X.shape[0], dtype=np.float64)
        keys = np.zeros((X.shape[0], s.n_modalities))
        for chunk, v, _ in self._chunks(X, missing):
            scores[chunk] = -model.variational_free_energy(v, self.n_mean_field,
                                                           self.mean_field_tol)
            L = model.lengths(v)
            keys[chunk] = np.round(L)
            for m, (cols, units) in enumerate(zip(s.columns, s.units)):
                if units.has_length:
                    counts = v[:, cols].astype(np.float64)
                    # the log multinomial coefficient (a mean equal to the length zeroes the
                    # rest of the log-likelihood)
                    scores[chunk] += units.log_likelihood(
                        counts, np.repeat(L[:, m:m + 1], counts.shape[1], axis=1), L[:, m]
                    )
        settings, inverse = np.unique(keys, axis=0, return_inverse=True)
        todo = [tuple(k) for k in settings if tuple(k) not in self._ais_cache]
        if todo:
            lengths = np.array(todo) if any(s.uses_length) else None
            result = self.log_partition(lengths=lengths)
            values = np.atleast_1d(result.log_z)
            for key, value in zip(todo, values if lengths is not None else values[:1]):
                self._ais_cache[key] = float(value)
        log_z = np.array([self._ais_cache[tuple(k)] for k in settings])
        return scores - log_z[inverse.reshape(-1)]
