"""The multimodal (bimodal deep) autoencoder of Ngiam et al. (2011)."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._modalities import modality_widths, reject_second_view
from .._nn import ACTIVATIONS, HIDDEN_ACTIVATIONS, MLP, layer_sizes, pretrain_denoising
from .._training import TRAINING_CONSTRAINTS, EpochLoop, TrainingHistory, make_optimizer
from .._training import minibatch_epoch, n_minibatches, resume_state, validation_split
from .._utils import as_generator, feature_scale_advice, keep_state_on_error
from ..boltzmann._base import (
    _BaseJointModel,
    cross_modal_log_likelihood,
    dense_rows,
    monitor_rows,
)
from ..boltzmann._units import VISIBLE_UNITS, VisibleUnits


class MultimodalAutoencoder(_BaseJointModel):
    """Multimodal autoencoder trained to reconstruct every modality from any of them.

    The bimodal deep autoencoder of Ngiam et al. (2011, Fig. 3b), for two or more
    modalities. Each modality ``m`` has an encoder ``e_m``, a small network
    (``hidden_layer_sizes``, ``activation``) whose linear top layer has ``n_components``
    units, and a decoder ``d_m`` that mirrors it. A row given the modalities of a set ``P``
    has the shared code::

        z = f( (1 / |P|) sum_{m in P} e_m(x_m) )

    (``f`` the activation): the mean of the given modalities' encodings, so a code from
    one modality is on the scale of a code from all of them (the ``n_modalities /
    n_present`` rescaling of the Boltzmann models, up to the constant ``n_modalities``).
    Each modality's reconstruction is the mean of its visible units (the unit types of
    :class:`~skmultimodal.MultimodalRBM`) given the decoder's output ``a_m = d_m(z)``:

    ======================  =============================  ==================================
    ``visible_units``       reconstruction ``r_m``         loss ``-log p(x_m | r_m)``
    ======================  =============================  ==================================
    ``binary``              ``sigmoid(a_m)``               cross-entropy
    ``gaussian``            ``a_m``                        ``||x_m - r_m||^2 / 2`` + const
    ``replicated_softmax``  ``D softmax(a_m)``             multinomial: ``-sum_k x_k log
                                                           (r_k / D)`` + const
    ======================  =============================  ==================================

    (``D = sum_k x_k``, the document length). Every link is canonical, so the gradient
    with respect to ``a_m`` is ``r_m - x_m``.

    **The masked-modality objective.** Ngiam et al. train the network to reconstruct both
    modalities from both and from each alone, presenting examples with one modality zeroed
    ("video-only" and "audio-only") among the complete ones. Here every row ``i`` of a
    mini-batch is presented with each input set ``S`` of ``C``: all modalities, and (with
    ``mask_modalities``) each modality alone; the targets are always every modality the row
    has (``O_i``)::

        L = (1/n) sum_i (1/|C|) sum_{S in C} sum_{m in O_i} -log p(x_im | r_m(z(S & O_i)))
            + (alpha / 2) sum ||W||^2

    where ``z(S & O_i)`` is the code from the modalities of ``S`` the row has; an input set
    the row has none of is skipped. A missing modality (its whole block NaN) is therefore
    neither input nor target: a row missing one still trains the encoders and decoders of
    the modalities it has. The encoders run once per row and only the code layer and the
    decoders once per input set, so with two modalities an epoch costs about twice a plain
    autoencoder's.

    :meth:`transform` returns ``z`` from whichever modalities a row has (a row missing some
    is completed with their reconstructions and encoded again, ``n_fill_iter``),
    :meth:`impute` the reconstructions ``r_m`` of its missing ones, :meth:`score` the
    log-likelihood of each present modality reconstructed from the others.

    Parameters
    ----------
    n_components : int, default=64
        Width of the shared code.
    modalities : None, list of int or list of (str, columns) tuples, default=None
        Which columns form which modality. ``None``: two modalities, the first
        ``n_features // 2`` columns and the rest. A list of ints gives consecutive block
        widths; ``(name, columns)`` pairs give columns as a slice, int indices or DataFrame
        column names. Every column belongs to exactly one modality.
    visible_units : {"auto", "gaussian", "binary", "replicated_softmax"}, VisibleUnits \
            or list, default="auto"
        Unit type (output activation and loss) of every modality, or one per modality.
        ``"auto"`` takes binary units for a modality whose values all lie in [0, 1] (pixels,
        probabilities) and unit-variance Gaussian units otherwise (standardise such
        features: fit warns when they are far from it). Replicated Softmax units take
        non-negative word counts, dense or sparse. A
        :class:`~skmultimodal.boltzmann.VisibleUnits` instance is a unit type of your own.
    hidden_layer_sizes : tuple of int or list of tuples, default=(128,)
        Hidden layer widths of each modality's encoder (its decoder has them in reverse):
        one tuple for every modality or a list with one tuple per modality; ``()`` maps
        the inputs linearly to the code's input.
    activation : {"tanh", "relu", "logistic"}, default="tanh"
        Non-linearity of the hidden layers and of the code.
    mask_modalities : bool, default=True
        Present every row with each modality alone as well as with all of them (the
        masked-modality objective above). False trains on the inputs as they are (a
        multimodal autoencoder whose missing-modality codes are never trained).
    n_fill_iter : int, default=1
        How often :meth:`transform` refines the code of a row missing a modality: the
        missing modalities are filled with their reconstructions from the current code
        and the completed row is encoded again. 0 returns the code of the present
        modalities alone (see the Notes for the measurements).
    alpha : float, default=1e-4
        L2 penalty on the weights (``alpha / 2 * ||W||^2`` per weight matrix).
    solver : {"adam", "sgd"}, default="adam"
        Adam (Kingma & Ba 2015) or SGD with momentum.
    learning_rate : float, default=1e-3
        Step size. Training that diverges (the loss a hundredfold its value before
        training, the parameters' root mean square a hundredfold their start, or NaN) raises
        FloatingPointError naming it and leaves the estimator as it was.
    momentum : float, default=0.9
        Momentum of ``solver="sgd"``.
    batch_size : int, default=64
        Rows per mini-batch (each presented with every input set).
    max_iter : int, default=200
        Maximum number of epochs of :meth:`fit`.
    tol : float, default=1e-4
        Improvement of the loss (or of the validation score with ``early_stopping``)
        below which an epoch counts as none.
    n_iter_no_change : int, default=10
        Stop after this many epochs without improvement.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows, stop when their :meth:`score` stops
        improving and keep the best epoch's weights.
    validation_fraction : float, default=0.1
        Fraction of the rows held out for early stopping.
    pretrain_iter : int, default=0
        L-BFGS iterations of the denoising-autoencoder pretraining (Vincent et al. 2008) of
        each hidden layer of each modality's encoder, greedily, on the rows that have the
        modality (up to 10,000); the decoder's mirror layers start from the transposed
        weights. 0 turns pretraining off.
    pretrain_noise : float, default=0.2
        Fraction of a pretrained layer's inputs set to zero (masking noise).
    warm_start : bool, default=False
        Make :meth:`fit` continue from the current weights and optimiser state.
    random_state : int, RandomState instance or None, default=None
        Seed of the initialisation, the pretraining noise, the shuffling and the
        validation split; an int makes fits exactly reproducible.
    verbose : int, default=0
        Print the loss (and validation score) of every epoch.

    Attributes
    ----------
    encoders_ : list of ndarray
        The flat parameter vector of each modality's encoder: for each layer ``W`` (row
        by row, ``n_in x n_out``), then its bias.
    decoders_ : list of ndarray
        The same for each modality's decoder; the last bias is the visible units' bias.
    mean_length_ : ndarray of shape (n_modalities,)
        Mean document length of each Replicated Softmax modality in the first training
        data (0 for the others), the length of an imputed one.
    modalities_ : list of (str, slice or ndarray)
        The resolved modality specification.
    visible_units_ : list of str
        Unit type of each modality.
    loss_curve_ : list of float
        Mean training loss (the objective above, in nats per row) of every epoch.
    best_loss_ : float
        The lowest value of ``loss_curve_``.
    validation_scores_ : list of float or None
        Validation :meth:`score` per epoch with ``early_stopping``.
    best_validation_score_ : float or None
        Best validation score with ``early_stopping``.
    n_iter_ : int
        Number of epochs trained.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    skmultimodal.MinVIRBM : A multimodal RBM trained to predict each modality from the
        others.
    skmultimodal.ModalityImputer : Fill missing modalities for any downstream model.

    Notes
    -----
    **How a missing modality's code is formed** was chosen by measurement (digits halves,
    70/30 splits, seeds 0-2, 100 epochs, defaults otherwise): the mean of the present
    encodings (used here), their plain sum, and zero inputs for the missing modality as
    Ngiam et al. gave theirs, which confuses "missing" with "all zero" (a blank half
    digit, an empty document). Squared error of the right half inferred from the left
    0.0401 / 0.0406 / 0.0410, held-out :meth:`score` -20.96 / -21.00 / -21.06; with two
    thirds of the training rows missing a half, accuracy of a logistic regression on the
    codes of left halves 0.782 / 0.782 / 0.765 and right halves 0.836 / 0.815 / 0.799
    (codes of the given half alone, ``n_fill_iter=0``).

    **Masking.** On the same data (32 components, one hidden layer of 64, 30 epochs, seeds
    0-4) training without ``mask_modalities`` triples the squared error of an inferred half
    (right from left 0.152 against 0.051, left from right 0.146 against 0.039).

    **Filling in before encoding.** The code of one half alone decodes to both halves, but
    it is not the code of the whole digit, so a classifier trained on complete codes reads
    it poorly. One fill-in (``n_fill_iter=1``, as the Boltzmann models infer a missing
    modality before reading their joint layer, and as the recurrent finetuning of Sohn,
    Shang & Lee 2014, Eq. 10-13, passes a reconstruction back up) raises the accuracy of a
    logistic regression on the codes of left halves from 0.750 / 0.780 / 0.793 to 0.876 /
    0.900 / 0.885 and of right halves from 0.844 / 0.870 / 0.807 to 0.898 / 0.893 / 0.891
    (digits, defaults, seeds 0-2); more fill-ins do not help. On MNIST halves (7,000
    training images) it cuts a linear SVM's error from 20.7 to 9.0 % (left halves) and
    from 23.7 to 10.8 % (right halves). :meth:`impute` and :meth:`score` use the first
    reconstruction, whose error is the lowest (0.039 against 0.045 after a fill-in).

    **Rows missing a modality** are used, not dropped. Digits halves with two thirds of the
    training rows missing a half (the left in one third, the right in another), seeds 0-4,
    a logistic regression on the codes of the complete training images; test accuracy with
    both halves / the left / the right, squared error of the right inferred from the left,
    held-out :meth:`score`:

    ==============================  =====  =====  =====  =====  ======
    training rows                   both   left   right  error  score
    ==============================  =====  =====  =====  =====  ======
    all, 200 epochs                 0.968  0.859  0.889  0.047  -22.18
    complete third, 200 epochs      0.969  0.856  0.883  0.046  -21.96
    complete third, 600 epochs      0.966  0.860  0.869  0.053  -23.86
    all, early stopping             0.969  0.839  0.880  0.047  -22.11
    complete third, early stopping  0.968  0.837  0.874  0.047  -22.04
    ==============================  =====  =====  =====  =====  ======

    The rows with one half cost nothing in accuracy and keep the model from overfitting
    the complete third (which, trained for as many updates, loses 1.7 nats of score).

    Float32 input is trained in float32, the fast path; the cost of an epoch is its
    matrix products. Sparse input (word counts) is densified one mini-batch at a time
    (and, for ``pretrain_iter``, up to 10,000 rows of a modality once).

    References
    ----------
    Ngiam, J., Khosla, A., Kim, M., Nam, J., Lee, H. and Ng, A. Y. Multimodal deep
    learning. ICML 2011.

    Vincent, P., Larochelle, H., Bengio, Y. and Manzagol, P.-A. Extracting and composing
    robust features with denoising autoencoders. ICML 2008.

    Examples
    --------
    >>> import numpy as np
    >>> from skmultimodal.deep import MultimodalAutoencoder
    >>> from skmultimodal.datasets import load_digits_halves
    >>> X, y = load_digits_halves(return_X_y=True)
    >>> ae = MultimodalAutoencoder(n_components=16, hidden_layer_sizes=(32,), max_iter=10,
    ...                            random_state=0).fit(X)
    >>> X_left = X.copy()
    >>> X_left[:, 32:] = np.nan  # the right halves are missing
    >>> ae.transform(X_left).shape
    (1797, 16)
    >>> right = ae.impute(X_left)[:, 32:]  # drawn from the left halves
    >>> bool(np.mean((right - X[:, 32:]) ** 2) < np.var(X[:, 32:]))
    True
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "modalities": [None, list, tuple],
        "visible_units": [StrOptions({"auto", *VISIBLE_UNITS}), VisibleUnits, list, tuple],
        "hidden_layer_sizes": [tuple, list],
        "activation": [StrOptions(set(HIDDEN_ACTIVATIONS))],
        "mask_modalities": ["boolean"],
        "n_fill_iter": [Interval(Integral, 0, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "solver": [StrOptions({"adam", "sgd"})],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "pretrain_iter": [Interval(Integral, 0, None, closed="left")],
        "pretrain_noise": [Interval(Real, 0, 1, closed="left")],
        **TRAINING_CONSTRAINTS,
    }

    def __init__(self, n_components=64, *, modalities=None, visible_units="auto",
                 hidden_layer_sizes=(128,), activation="tanh", mask_modalities=True,
                 n_fill_iter=1, alpha=1e-4, solver="adam", learning_rate=1e-3, momentum=0.9,
                 batch_size=64, max_iter=200, tol=1e-4, n_iter_no_change=10,
                 early_stopping=False, validation_fraction=0.1, pretrain_iter=0,
                 pretrain_noise=0.2, warm_start=False, random_state=None, verbose=0):
        self.n_components = n_components
        self.modalities = modalities
        self.visible_units = visible_units
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.mask_modalities = mask_modalities
        self.n_fill_iter = n_fill_iter
        self.alpha = alpha
        self.solver = solver
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.pretrain_iter = pretrain_iter
        self.pretrain_noise = pretrain_noise
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    def _dtype(self):
        return self.encoders_[0].dtype

    @property
    def _n_features_out(self):
        check_is_fitted(self)  # get_feature_names_out before fit: NotFittedError
        return self.n_components

    def _networks(self):
        """Each modality's encoder ``[d_m, *h_m, K]`` and decoder ``[K, *reversed(h_m),
        d_m]``, both with a linear top layer (their weights live in ``encoders_`` and
        ``decoders_``)."""
        widths = modality_widths(self.modalities_)
        hidden = layer_sizes(self.hidden_layer_sizes, len(widths))
        encoders = [MLP([d, *h, self.n_components], self.activation)
                    for d, h in zip(widths, hidden)]
        decoders = [MLP([self.n_components, *h[::-1], d], self.activation)
                    for d, h in zip(widths, hidden)]
        return encoders, decoders

    def _input_sets(self):
        """The input sets ``C`` every row is presented with, one boolean row each: all
        modalities, and with ``mask_modalities`` each modality alone."""
        M = len(self.modalities_)
        sets = [np.ones(M, dtype=bool)]
        if self.mask_modalities and M > 1:
            sets += list(np.eye(M, dtype=bool))
        return np.array(sets)

    # -- fitting ----------------------------------------------------------------------------

    @keep_state_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the encoders and decoders on X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The modalities' columns side by side; a missing modality is its whole block
            set to NaN (the row trains on the modalities it has).
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        reject_second_view(y, X, self)
        warm = self.warm_start and hasattr(self, "encoders_")
        X, missing = self._validate_input(X, reset=not warm)
        if not warm:
            self._start(X, missing)
        self._train(X, missing, self.max_iter, check_convergence=True)
        return self

    @keep_state_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """One epoch of mini-batch updates over X, continuing the current model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The updated estimator.
        """
        reject_second_view(y, X, self)
        first = not hasattr(self, "encoders_")
        X, missing = self._validate_input(X, reset=first)
        if first:
            self._start(X, missing)
        self._train(X, missing, 1, check_convergence=False)
        return self

    def _start(self, X, missing):
        """A new model: Glorot-uniform weights, each decoder's output bias the one under
        which the reconstruction is the modality's column means (on up to 10,000 rows that
        have it), and the optional denoising pretraining."""
        self._check_every_modality_seen(missing)
        rng = self._rng = as_generator(self.random_state)
        encoders, decoders = self._networks()
        thetas = [net.init(rng) for net in encoders]
        phis = [net.init(rng) for net in decoders]
        self.mean_length_ = np.zeros(len(encoders))
        for m, ((_, cols), units) in enumerate(zip(self.modalities_, self._unit_types)):
            rows = np.sort(rng.permutation(np.flatnonzero(~missing[:, m]))[:10000])
            block = X[rows][:, cols]
            column_mean = np.asarray(block.mean(axis=0), dtype=np.float64).reshape(-1)
            decoders[m].unpack(phis[m])[-1][1][...] = units.init_bias(column_mean)
            self.mean_length_[m] = units.length(block).mean()
            if self.pretrain_iter:
                block = dense_rows(X, rows, np.float64)[:, cols]
                thetas[m] = pretrain_denoising(encoders[m], thetas[m], block,
                                               self.pretrain_noise, self.pretrain_iter, rng)
                mirror = decoders[m].unpack(phis[m])[::-1]  # layer i's mirror is i here
                for (W, _), (W_mirror, _) in zip(encoders[m].unpack(thetas[m])[:-1], mirror):
                    W_mirror[...] = W.T
        self.encoders_ = [t.astype(X.dtype) for t in thetas]
        self.decoders_ = [p.astype(X.dtype) for p in phis]
        self._optimizer_state = None
        self._history = TrainingHistory.start(self, validation=self.early_stopping)

    def _train(self, X, missing, n_epochs, check_convergence):
        rng = self._rng
        M = len(self.modalities_)
        params = {**{f"encoder{m}": t.copy() for m, t in enumerate(self.encoders_)},
                  **{f"decoder{m}": p.copy() for m, p in enumerate(self.decoders_)}}
        optimizer = make_optimizer(self.solver, self.learning_rate, self.momentum)
        state = resume_state(optimizer, self._optimizer_state, params)
        nets = self._networks()
        train = np.arange(X.shape[0])
        validate = None
        if self.early_stopping and check_convergence:
            train, val = validation_split(X.shape[0], self.validation_fraction, rng,
                                          what="rows")
            train, val = np.sort(train), np.sort(val)
            if (~missing[val]).sum(axis=1).max() < 2:
                raise ValueError(
                    "early_stopping scores the reconstruction of each modality from the "
                    "others, but no validation row has two modalities. Use more rows with "
                    "several modalities, another validation_fraction, or "
                    "early_stopping=False."
                )

            def validate():
                scores = self._score_rows(nets, _split(params, M), X[val], missing[val])
                return np.nanmean(scores)

        def objective(rows):
            return self._objective(nets, params, *self._batch(X, missing, rows))

        batch = min(self.batch_size, train.size)

        def epoch():
            return minibatch_epoch(rng.permutation(train), batch, objective, params,
                                   optimizer, state)

        loop = EpochLoop(
            type(self).__name__, self._history, max_epochs=n_epochs,
            check_convergence=check_convergence, tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            rate=("learning_rate", self.learning_rate),
            scale_hint=lambda: self._scale_hint(X, missing), verbose=self.verbose,
        ).run(epoch, validate=validate, params=lambda: params,
              updates_per_epoch=n_minibatches(train.size, batch),
              initial_value=lambda: objective(train[:batch])[0])
        self.encoders_, self.decoders_ = _split(loop.best_params or params, M)
        self._optimizer_state = state
        self._history = loop.history
        loop.history.set_attributes(self, validation=validate is not None)
        self._warn_if_collapsed(nets[0], X, missing)

    def _batch(self, X, missing, rows):
        """The rows' dense blocks (zeros where missing) and their mask of present ones."""
        present = ~missing[rows]
        return self._blocks(dense_rows(X, rows, self._dtype()), present), present

    def _blocks(self, v, present):
        """Each modality's contiguous block of dense rows ``v``, zero where not present."""
        blocks = []
        for m, (_, cols) in enumerate(self.modalities_):
            block = np.ascontiguousarray(v[:, cols])
            block[~present[:, m]] = 0
            blocks.append(block)
        return blocks

    def _scale_hint(self, X, missing):
        """The likely cause a divergence message names: Gaussian modalities far from
        standardised (:func:`~skmultimodal._utils.feature_scale_advice` of each, on up to
        10,000 rows that have it)."""
        advice = []
        for m, ((name, cols), units) in enumerate(zip(self.modalities_, self._unit_types)):
            if units.name == "gaussian":
                rows = np.flatnonzero(~missing[:, m])
                problem = feature_scale_advice(X[rows[:: max(1, rows.size // 10000)]][:, cols])
                if problem:
                    advice.append(f"modality {name!r}: {problem}")
        if not advice:
            return None
        return (f"the features of the Gaussian modalities are not standardised "
                f"({'; '.join(advice)}); put a StandardScaler in the Pipeline.")

    # -- the per-batch update ---------------------------------------------------------------

    def _objective(self, nets, params, blocks, present):
        """The masked-modality loss of a mini-batch (the class docstring's ``L``) and its
        gradient with respect to every entry of ``params``.

        ``blocks`` are the modalities' dense blocks, zero where ``present`` (n x M) is
        False. All input sets are stacked into one ``(C n) x K`` code matrix, so each
        decoder runs once on all of them.
        """
        encoders, decoders = nets
        n = present.shape[0]
        dtype = blocks[0].dtype
        f, df = ACTIVATIONS[self.activation]
        given = self._input_sets()[:, None, :] & present[None]  # (C, n, M)
        C = given.shape[0]
        count = given.sum(axis=2)
        share = (given / np.maximum(count, 1)[:, :, None]).astype(dtype)
        targets = ((count > 0)[:, :, None] & present[None]).astype(dtype) / dtype.type(C * n)
        encoded = [net.forward(params[f"encoder{m}"], V)
                   for m, (net, V) in enumerate(zip(encoders, blocks))]
        S = sum(share[:, :, m, None] * outputs[-1] for m, outputs in enumerate(encoded))
        Z = f(S.reshape(C * n, self.n_components))
        loss, grads, grad_Z = 0.0, {}, np.zeros_like(Z)
        for m, (net, units, V) in enumerate(zip(decoders, self._unit_types, blocks)):
            key = f"decoder{m}"
            outputs = net.forward(params[key], Z)
            length = units.length(V)
            units.mean(outputs[-1], np.zeros((1, V.shape[1]), dtype), np.tile(length, C),
                       outputs[-1])
            R = outputs[-1].reshape(C, n, -1)
            w = targets[:, :, m]
            for c in range(C):
                loss -= float(w[c] @ units.log_likelihood(V, R[c], length))
            grads[key], g = net.backward(params[key], outputs,
                                         ((R - V) * w[:, :, None]).reshape(C * n, -1),
                                         input_grad=True)
            grad_Z += g
        grad_S = (grad_Z if df is None else grad_Z * df(Z)).reshape(C, n, -1)
        for m, (net, outputs) in enumerate(zip(encoders, encoded)):
            key = f"encoder{m}"
            grads[key] = net.backward(params[key], outputs,
                                      np.einsum("cn,cnk->nk", share[:, :, m], grad_S))
        for m, (encoder, decoder) in enumerate(zip(encoders, decoders)):
            for net, key in ((encoder, f"encoder{m}"), (decoder, f"decoder{m}")):
                loss += net.l2_penalty(params[key], self.alpha, grads[key])
        return loss, grads

    # -- inference --------------------------------------------------------------------------

    def _encode(self, encoders, thetas, blocks, present):
        """The code ``z`` of each row from its present modalities (NaN for rows with
        none)."""
        S = np.zeros((present.shape[0], self.n_components), dtype=thetas[0].dtype)
        for m, (net, theta) in enumerate(zip(encoders, thetas)):
            rows = present[:, m]
            if rows.all():
                S += net.forward(theta, blocks[m])[-1]
            elif rows.any():
                S[rows] += net.forward(theta, blocks[m][rows])[-1]
        count = present.sum(axis=1)
        S /= np.where(count > 0, count, np.nan).astype(S.dtype)[:, None]
        return ACTIVATIONS[self.activation][0](S)

    def _reconstruct(self, decoder, phi, Z, m):
        """The mean ``r_m`` of modality ``m``'s units given the codes ``Z`` (Replicated
        Softmax at the mean training length)."""
        R = decoder.forward(phi, Z)[-1]
        length = np.full(R.shape[0], self.mean_length_[m], dtype=R.dtype)
        self._unit_types[m].mean(R, np.zeros((1, R.shape[1]), R.dtype), length, R)
        return R

    def _fill(self, nets, params, v, hide):
        """Fill the ``hide`` blocks of the dense rows ``v`` in place with their
        reconstructions from the code of the other blocks (NaN in rows where nothing is
        left)."""
        (encoders, decoders), (thetas, phis) = nets, params
        Z = self._encode(encoders, thetas, self._blocks(v, ~hide), ~hide)
        for m, (_, cols) in enumerate(self.modalities_):
            rows = np.flatnonzero(hide[:, m])
            if rows.size:
                v[np.ix_(rows, np.arange(v.shape[1])[cols])] = self._reconstruct(
                    decoders[m], phis[m], Z[rows], m)

    def _code(self, v, present):
        """:meth:`transform` of dense rows: the code of the present modalities, refined
        ``n_fill_iter`` times in rows missing one (the missing blocks filled with their
        reconstructions, the completed row encoded)."""
        encoders, decoders = self._networks()
        blocks = self._blocks(v, present)
        Z = self._encode(encoders, self.encoders_, blocks, present)
        incomplete = np.flatnonzero(~present.all(axis=1))
        if not incomplete.size or not self.n_fill_iter:
            return Z
        blocks = [b[incomplete] for b in blocks]
        for _ in range(self.n_fill_iter):
            for m, block in enumerate(blocks):
                rows = ~present[incomplete, m]
                block[rows] = self._reconstruct(decoders[m], self.decoders_[m],
                                                Z[incomplete[rows]], m)
            Z[incomplete] = self._encode(encoders, self.encoders_, blocks,
                                         np.ones((incomplete.size, len(blocks)), dtype=bool))
        return Z

    def _score_rows(self, nets, params, X, missing):
        """:meth:`score_samples` of validated X under the given parameters."""
        scores = np.empty(X.shape[0])
        columns = [cols for _, cols in self.modalities_]
        for chunk, v, miss in self._chunks(X, missing):
            scores[chunk] = cross_modal_log_likelihood(
                lambda filled, hide: self._fill(nets, params, filled, hide), v, miss,
                columns, self._unit_types)
        return scores

    def transform(self, X):
        """The shared code of each row, from whichever modalities it has.

        A row with every modality gets ``z = f(mean_m e_m(x_m))``. A row missing some
        starts from the code of those it has; then, ``n_fill_iter`` times, its missing
        modalities are filled with their reconstructions ``r_m`` from the current code and
        the completed row is encoded. So a half digit is represented like a whole one.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data; a missing modality is its whole block set to NaN. Rows need at least one
            modality.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            The codes.
        """
        check_is_fitted(self)
        X, missing = self._validate_input(X, reset=False)
        Z = np.empty((X.shape[0], self.n_components), dtype=self._dtype())
        for chunk, v, miss in self._chunks(X, missing):
            Z[chunk] = self._code(v, ~miss)
        return Z

    def impute(self, X):
        """Fill missing modalities with their reconstructions from the present ones.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data with missing modalities as whole NaN blocks.

        Returns
        -------
        X_imputed : ndarray of shape (n_samples, n_features)
            Dense copy of X whose NaN blocks hold the reconstructions ``r_m`` from the code
            of the present modalities: probabilities for binary units, means for Gaussian
            ones, expected counts at the mean training length (``mean_length_``) for
            Replicated Softmax.
        """
        check_is_fitted(self)
        X, missing = self._validate_input(X, reset=False)
        nets = self._networks()
        out = np.empty(X.shape, dtype=self._dtype())
        for chunk, v, miss in self._chunks(X, missing):
            self._fill(nets, (self.encoders_, self.decoders_), v, miss)
            out[chunk] = v
        return out

    def score_samples(self, X):
        """Cross-modal reconstruction log-likelihood of each row.

        ``sum_m log p(x_m | r_m)`` over the modalities ``m`` the row has, each
        reconstructed from the code of the row's other modalities, under its units'
        distribution (Bernoulli cross-entropy, unit-variance Gaussian density, multinomial
        probability of the counts at the row's document length).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data; missing modalities are whole NaN blocks and are not scored.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Log-likelihoods in nats, higher is better; NaN for rows with fewer than two
            modalities (nothing to reconstruct from).
        """
        check_is_fitted(self)
        X, missing = self._validate_input(X, reset=False)
        return self._score_rows(self._networks(), (self.encoders_, self.decoders_), X,
                                missing)

    def score(self, X, y=None):
        """Mean cross-modal reconstruction log-likelihood, a label-free model score.

        The mean of :meth:`score_samples` over the rows of X with two modalities or more:
        how well each modality is predicted from the others, what the model is trained
        for. Higher is better, so GridSearchCV can select hyper-parameters with it.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data with at least one row of two modalities or more.
        y : None
            Ignored.

        Returns
        -------
        score : float
            Mean log-likelihood in nats per row.
        """
        scores = self.score_samples(X)
        if np.isnan(scores).all():
            raise ValueError(
                "score reconstructs each modality of a row from the others, so it needs rows "
                "with at least two modalities present; every row of X has one."
            )
        return float(np.nanmean(scores))

    def _warn_if_collapsed(self, encoders, X, missing):
        """ConvergenceWarning if the code does not depend on the data: on up to 256
        training rows that differ, every code unit varies by less than 1e-3 (its range is
        1 for tanh: saturated by unscaled inputs, or driven there by too large a step)."""
        rows = monitor_rows(X.shape[0])
        v = dense_rows(X, rows, self._dtype())
        if rows.size < 2 or not np.ptp(np.nan_to_num(v), axis=0).any():
            return  # rows that do not differ cannot tell
        Z = self._encode(encoders, self.encoders_, self._blocks(v, ~missing[rows]),
                         ~missing[rows])
        if (np.ptp(Z, axis=0) < 1e-3).all():
            hint = self._scale_hint(X, missing)
            cause = (f"Likely cause: {hint}" if hint else
                     f"learning_rate={self.learning_rate} is likely too large; lower it.")
            warnings.warn(
                f"{type(self).__name__}'s code stopped depending on the data after "
                f"{self.n_iter_} epochs: every unit has about the same value for every row (mean "
                f"{Z.mean():.3g}), so transform returns a constant. {cause}",
                ConvergenceWarning, stacklevel=4)


def _split(params, M):
    """The encoders' and the decoders' parameter vectors of a parameter dict."""
    return ([params[f"encoder{m}"] for m in range(M)],
            [params[f"decoder{m}"] for m in range(M)])
