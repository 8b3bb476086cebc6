"""The unrolled network of the multimodal deep recurrent neural network (Sohn, Shang & Lee
2014, Section 3.3, Eq. 10-13), its forward and backward passes.

The layers are those of a multimodal deep belief net (``boltzmann._graph.Structure``): a
pathway of hidden layers per modality under a joint top layer, each edge's weights ``W_e``
(``(width_upper, width_lower)``) used both ways, a bottom-up bias ``b`` for every hidden layer
and a top-down bias ``c`` for every layer below the top. To predict a set of target modalities
from the others:

1. bottom-up through every pathway, the targets' visible units at zero (Eq. 10-11), and into
   the top layer (Eq. 12)::

       h_m^(l) = sigmoid(W_m^(l) h_m^(l-1) + b_m^(l)),   h = sigmoid(sum_m T_m h_m^(top) + b)

2. ``n_iter`` times: top-down through each target's pathway to its visible units (Eq. 13),
   ``g^(l-1) = sigmoid(W^(l)T g^(l) + c^(l-1))`` and ``y = E[y | W^(1)T g^(1) + c]`` by the
   target's unit type, then bottom-up again through the target's pathway from that ``y``
   (Eq. 11) and into the top layer (Eq. 12);
3. a last top-down pass gives the prediction of every target.

A Replicated Softmax modality's document length ``D`` scales its bias ``a`` on the layer above
it, as in the Boltzmann machines. The loss is each target's negative log-likelihood under its
units' conditional at the prediction (cross-entropy for binary units, squared error for
Gaussian ones, the softmax cross-entropy of the counts for Replicated Softmax); each conditional
has the canonical link, so the output error is ``prediction - y``. Every step is
back-propagated through the unrolled network, each weight collecting the gradients of all its
uses (:func:`skmultimodal._nn.dense_backward` for every layer).
"""

import numpy as np

from .._nn import dense_backward, dense_forward


class RecurrentNetwork:
    """The MDRNN's parameters (a dict of arrays, the optimisers' format) and passes.

    Parameters
    ----------
    structure : boltzmann._graph.Structure
        The layers (modalities, pathways, top layer) and the modalities' unit types.
    params : dict of str to ndarray
        ``"W{e}"`` per edge, ``"b{l}"`` per hidden layer (bottom-up), ``"c{l}"`` per layer
        below the top (top-down), ``"a{m}"`` per count modality; each bias ``(1, width)``.
    """

    def __init__(self, structure, params):
        self.s, self.params = structure, params
        s = structure
        # per modality, the edges from its visible layer up into the top layer
        self.chain = []
        for m in range(s.n_modalities):
            edges, layer = [], m
            while layer != s.top:
                e = s.up[layer][-1]
                edges.append(e)
                layer = s.edges[e][1]
            self.chain.append(edges)

    @property
    def dtype(self):
        return self.params["W0"].dtype

    def _length(self, layer, m):
        """Whether modality ``m``'s document length scales the bias of ``layer``."""
        return self.s.uses_length[m] and self.s.length_layer[m] == layer

    # -- forward -------------------------------------------------------------------------------

    def _up(self, m, v, L):
        """Modality ``m``'s pathway bottom-up from its visible block ``v`` (Eq. 10-11): the
        activations of its layers, ``v`` first, its pathway top last."""
        p = self.params
        acts = [v]
        for e in self.chain[m][:-1]:
            upper = self.s.edges[e][1]
            bias = p[f"b{upper}"]
            if self._length(upper, m):
                bias = bias + L[:, m:m + 1] * p[f"a{m}"]
            acts.append(dense_forward(acts[-1], p[f"W{e}"].T, bias, "logistic"))
        return acts

    def _top_input(self, m, top_act, L):
        """Pathway ``m``'s input into the top layer from its top activation (Eq. 12)."""
        s, p = self.s, self.params
        z = top_act @ p[f"W{self.chain[m][-1]}"].T
        if self._length(s.top, m):
            z += L[:, m:m + 1] * p[f"a{m}"]
        return z

    def _down(self, m, h, L):
        """Modality ``m``'s pathway top-down from the top layer ``h`` (Eq. 13): the layers'
        activations from the one under the top down to the visible block's mean."""
        s, p = self.s, self.params
        acts, g = [], h
        for e in reversed(self.chain[m]):
            lower = s.edges[e][0]
            z = g @ p[f"W{e}"] + p[f"c{lower}"]
            if lower >= s.n_modalities:
                g = _logistic(z)
            else:
                g = np.empty_like(z)
                s.units[m].mean(z, np.zeros((1, z.shape[1]), z.dtype), L[:, m], g)
            acts.append(g)
        return acts

    def forward(self, blocks, L, targets, n_iter):
        """Predict the ``targets`` (modality indices) from the other blocks.

        ``blocks`` are the modalities' visible blocks (a target's is not read), ``L`` the
        document lengths (a target's true length in training, the mean training length
        otherwise). Returns the cache of :meth:`backward`, with the predictions in
        ``cache["prediction"][m]`` and the top layer after the iterations in
        ``cache["top"][-1]``.
        """
        n = L.shape[0]
        ups = {}
        # the present pathways' input into the top layer is the same at every step
        fixed = np.zeros((n, self.s.widths[self.s.top]), self.dtype) + \
            self.params[f"b{self.s.top}"]
        moving = {}
        for m, v in enumerate(blocks):
            if m in targets:
                v = np.zeros((n, self.s.widths[m]), self.dtype)
            ups[m] = [self._up(m, v, L)]
            if m in targets:
                moving[m] = self._top_input(m, ups[m][0][-1], L)
            else:
                fixed += self._top_input(m, ups[m][0][-1], L)
        hs, downs = [_logistic(fixed + sum(moving.values()))], {m: [] for m in targets}
        for _ in range(n_iter):
            for m in targets:
                downs[m].append(self._down(m, hs[-1], L))
                ups[m].append(self._up(m, downs[m][-1][-1], L))
                moving[m] = self._top_input(m, ups[m][-1][-1], L)
            hs.append(_logistic(fixed + sum(moving.values())))
        for m in targets:
            downs[m].append(self._down(m, hs[-1], L))
        return {"L": L, "targets": list(targets), "top": hs, "ups": ups, "downs": downs,
                "prediction": {m: downs[m][-1][-1] for m in targets}}

    def loss(self, cache, truth):
        """Mean over rows of the negative log-likelihoods of the targets in ``truth`` (their
        blocks; a target without one, a modality missing in the data, has no loss)."""
        L = cache["L"]
        return -sum(self.s.units[m].log_likelihood(block, cache["prediction"][m],
                                                   L[:, m]).sum()
                    for m, block in truth.items()) / L.shape[0]

    # -- backward ------------------------------------------------------------------------------

    def backward(self, cache, truth):
        """Gradients of :meth:`loss` with respect to every parameter (a dict like
        ``params``).

        Back through the last top-down passes (the output error ``prediction - y``), then
        step by step through the top layer, each target's bottom-up pass and the top-down
        pass that made its input; the present pathways, whose input into the top layer is
        the same at every step, once at the end with the steps' summed gradients.
        """
        s, L = self.s, cache["L"]
        targets, hs = cache["targets"], cache["top"]
        grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        n = L.shape[0]
        grad_h = np.zeros_like(hs[-1])
        for m, block in truth.items():
            delta = (cache["prediction"][m] - block) / n
            grad_h += self._down_backward(m, cache["downs"][m][-1], hs[-1], L, delta, grads,
                                          at_input=True)
        delta_sum = np.zeros_like(grad_h)  # the top's inputs from the present pathways
        for i in range(len(hs) - 1, -1, -1):
            delta = grad_h * hs[i] * (1 - hs[i])
            delta_sum += delta
            grad_h = np.zeros_like(grad_h)
            for m in targets:
                grad_top = self._top_input_backward(m, cache["ups"][m][i][-1], delta, L,
                                                    grads)
                if i == 0:
                    self._up_backward(m, cache["ups"][m][0], L, grad_top, grads)
                    continue
                grad_v = self._up_backward(m, cache["ups"][m][i], L, grad_top, grads)
                grad_h += self._down_backward(m, cache["downs"][m][i - 1], hs[i - 1], L,
                                              grad_v, grads)
        grads[f"b{s.top}"] += delta_sum.sum(axis=0)
        for m in range(s.n_modalities):
            if m not in targets:
                grad_top = self._top_input_backward(m, cache["ups"][m][0][-1], delta_sum, L,
                                                    grads)
                self._up_backward(m, cache["ups"][m][0], L, grad_top, grads)
        return grads

    def _top_input_backward(self, m, top_act, delta, L, grads):
        """Back through pathway ``m``'s input into the top layer, given the top layer's
        ``delta`` (the gradient at its input): returns the gradient with respect to the
        pathway's top activation."""
        s, p = self.s, self.params
        e = self.chain[m][-1]
        gW, _, grad = dense_backward(top_act, p[f"W{e}"], None, delta, "identity",
                                     out_in=True)
        grads[f"W{e}"] += gW
        if self._length(s.top, m):
            grads[f"a{m}"] += L[:, m] @ delta
        return grad

    def _up_backward(self, m, acts, L, grad, grads):
        """Back through modality ``m``'s bottom-up pass ``acts`` from the gradient with
        respect to its top activation; returns the gradient with respect to its input."""
        s, p = self.s, self.params
        for j in range(len(acts) - 1, 0, -1):
            e = self.chain[m][j - 1]
            upper = s.edges[e][1]
            delta = grad * acts[j] * (1 - acts[j])
            gW, gb, grad = dense_backward(acts[j - 1], p[f"W{e}"], acts[j], delta,
                                          "identity", out_in=True)
            grads[f"W{e}"] += gW
            grads[f"b{upper}"] += gb
            if self._length(upper, m):
                grads[f"a{m}"] += L[:, m] @ delta
        return grad

    def _down_backward(self, m, acts, h, L, grad, grads, at_input=False):
        """Back through modality ``m``'s top-down pass ``acts`` (from the top layer ``h``)
        from the gradient with respect to its visible output (with respect to the output's
        input if ``at_input``); returns the gradient with respect to ``h``."""
        s, p = self.s, self.params
        chain = list(reversed(self.chain[m]))
        for j in range(len(acts) - 1, -1, -1):
            e = chain[j]
            lower = s.edges[e][0]
            above = acts[j - 1] if j else h
            W = p[f"W{e}"]
            if lower >= s.n_modalities:
                gW, gc, grad = dense_backward(above, W, acts[j], grad, "logistic")
            else:
                delta = grad if at_input else s.units[m].mean_backward(acts[j], L[:, m], grad)
                gW, gc, grad = dense_backward(above, W, acts[j], delta, "identity")
            grads[f"W{e}"] += gW
            grads[f"c{lower}"] += gc
        return grad


def _logistic(z):
    """``1 / (1 + exp(-z))`` without overflow."""
    return 0.5 * np.tanh(0.5 * z) + 0.5
