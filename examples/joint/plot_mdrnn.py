"""
Completing a digit with a recurrent deep network (MDRNN)
========================================================

The multimodal deep recurrent neural network of Sohn, Shang & Lee (2014, Section 3.3) on
scikit-learn's 8x8 digits, each image two modalities: its left and right halves. A pathway
of hidden units per half and a joint layer are pretrained greedily (RBMs, the joint one by
minimum variation of information), then the whole network is finetuned to predict each
half from the other: a bottom-up pass with the missing half at zero, then ``n_steps`` times
a top-down pass to the missing half and a bottom-up pass from that prediction (their
Eq. 10-13).

The recurrent steps are what make the missing half count: their Table 3 found that they
barely change the representation of complete inputs and help most when a modality is
missing, the first step most. Here three networks finetuned with 0, 1 and 3 steps complete
the right halves of unseen digits from their left halves.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from skmultimodal import MDRNN
from skmultimodal.datasets import load_digits_halves

digits = load_digits_halves()
X_train, X_test, y_train, y_test = train_test_split(
    digits.data, digits.target, test_size=0.3, random_state=0, stratify=digits.target
)
right = digits.modalities[1][1]
X_left_only = X_test.copy()
X_left_only[:, right] = np.nan  # the right halves are missing

networks = {}
for n_steps in (0, 1, 3):
    networks[n_steps] = MDRNN(n_components=64, pathways=(64,), modalities=digits.modalities,
                              n_steps=n_steps, n_iter_pretrain=20, max_iter=40,
                              random_state=0).fit(X_train)

# %%
# One classifier per network, trained on complete digits' representations, then given the
# left halves only; and the error of the completed right halves.
print(f"{'steps':>5s} {'both halves':>12s} {'left only':>10s} {'MSE of the right half':>22s}")
completed = {}
for n_steps, net in networks.items():
    clf = LogisticRegression(max_iter=3000).fit(net.transform(X_train), y_train)
    both = clf.score(net.transform(X_test), y_test)
    left_only = clf.score(net.transform(X_left_only), y_test)
    completed[n_steps] = net.impute(X_left_only)
    mse = np.mean((completed[n_steps][:, right] - X_test[:, right]) ** 2)
    print(f"{n_steps:5d} {both:12.3f} {left_only:10.3f} {mse:22.4f}")

# %%
# The completed digits: the left half given, the right half predicted.
fig, axes = plt.subplots(len(networks) + 1, 8, figsize=(8, 4.4))
for column in range(8):
    rows = [("truth", X_test[column])] + [
        (f"{n} steps", completed[n][column]) for n in networks]
    for row, (label, image) in enumerate(rows):
        ax = axes[row, column]
        ax.imshow(np.hstack([image[:32].reshape(8, 4), image[32:].reshape(8, 4)]),
                  cmap="gray_r", vmin=0, vmax=1)
        ax.axvline(3.5, color="tab:red", linewidth=0.8)
        ax.set_xticks([])
        ax.set_yticks([])
        if column == 0:
            ax.set_ylabel(label, fontsize=9)
fig.suptitle("Right halves (right of the red line) predicted from the left halves")
fig.tight_layout()
plt.show()
