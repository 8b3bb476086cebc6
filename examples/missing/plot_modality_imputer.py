"""
ModalityImputer: any classifier, any missing modality
=====================================================

:class:`~skmultimodal.ModalityImputer` wraps any estimator that has an ``impute`` method
and fills the missing block of each row with the model's mean-field expectation, so an
ordinary scikit-learn classifier trained on complete data keeps working when a modality is
missing at prediction time. Here a logistic regression on raw pixels of both digit halves
is put behind three imputers, and scored on test digits with both halves, the left half
only and the right half only:

- scikit-learn's :class:`~sklearn.impute.SimpleImputer` (the training mean);
- ``ModalityImputer(MultimodalRBM(...))``, maximum-likelihood training;
- ``ModalityImputer(MinVIRBM(...))``, trained to predict each modality from the others.

The second part generates tags for images that have none, on synthetic "image features +
tags" data (:func:`~skmultimodal.datasets.make_multimodal_topics`).
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmultimodal import MinVIRBM, ModalityImputer, MultimodalRBM
from skmultimodal.datasets import load_digits_halves, make_multimodal_topics

digits = load_digits_halves()
X_train, X_test, y_train, y_test = train_test_split(
    digits.data, digits.target, test_size=0.3, random_state=0, stratify=digits.target
)
left, right = digits.modalities[0][1], digits.modalities[1][1]
patterns = {"both halves": [], "left only": right, "right only": left}  # hidden columns

rbm = dict(n_components=128, modalities=digits.modalities, visible_units="binary",
           learning_rate=0.1, batch_size=32, n_iter=30, random_state=0)
imputers = {
    "SimpleImputer (mean)": SimpleImputer(),
    "ModalityImputer(MultimodalRBM)": ModalityImputer(MultimodalRBM(**rbm)),
    "ModalityImputer(MinVIRBM)": ModalityImputer(MinVIRBM(**rbm)),
}
accuracy = {}
for name, imputer in imputers.items():
    model = make_pipeline(imputer, LogisticRegression(max_iter=3000)).fit(X_train, y_train)
    for pattern, hidden in patterns.items():
        X = X_test.copy()
        X[:, hidden] = np.nan
        accuracy[name, pattern] = model.score(X, y_test)
    print(f"{name:32s} " + "  ".join(f"{p} {accuracy[name, p]:.3f}" for p in patterns))

# %%
# With both halves present every imputer passes the digits through unchanged, so the three
# pipelines agree; with a half missing, the better the imputation, the better the accuracy.
fig, ax = plt.subplots(figsize=(7, 3.5))
width = 0.8 / len(imputers)
for i, name in enumerate(imputers):
    values = [accuracy[name, p] for p in patterns]
    bars = ax.bar(np.arange(len(patterns)) + (i - 1) * width, values, width, label=name)
    ax.bar_label(bars, fmt="%.2f", fontsize=7)
ax.set_xticks(np.arange(len(patterns)), list(patterns))
ax.set_ylim(0.5, 1.0)
ax.set_ylabel("test accuracy")
ax.set_title("One classifier on raw pixels, three ways to fill a missing half")
ax.legend(loc="lower left", fontsize=8)
fig.tight_layout()
plt.show()

# %%
# Tags for untagged images
# ------------------------
# Gaussian "image features" (standardised: Gaussian units have unit variance) and tag
# counts (Replicated Softmax units) generated from shared topics. The tags of test images
# are missing; :meth:`~skmultimodal.MultimodalRBM.impute` gives their expected counts and
# :meth:`~skmultimodal.MultimodalRBM.sample` one Gibbs draw of a tag set.
n_image, n_tags = 20, 50
X, topic = make_multimodal_topics(1500, n_image_features=n_image, n_tags=n_tags, noise=0.5,
                                  random_state=0)
X_train, X_test = X[:1200], X[1200:]
scaler = StandardScaler().fit(X_train[:, :n_image])
X_train[:, :n_image] = scaler.transform(X_train[:, :n_image])
X_test[:, :n_image] = scaler.transform(X_test[:, :n_image])
tagger = MultimodalRBM(n_components=32, modalities=[("image", slice(0, n_image)),
                                                    ("tags", slice(n_image, None))],
                       visible_units=["gaussian", "replicated_softmax"], learning_rate=0.01,
                       n_iter=30, random_state=0).fit(X_train)
untagged = X_test.copy()
untagged[:, n_image:] = np.nan
expected_tags = tagger.impute(untagged)[:, n_image:]
drawn_tags = tagger.sample(untagged, n_steps=50, random_state=0)[:, n_image:]
truth = X_test[:, n_image:] > 0
top5 = np.argsort(-expected_tags, axis=1)[:, :5]
popular = np.argsort(-X_train[:, n_image:].sum(axis=0))[:5]
print(f"precision@5 of tags inferred from image features: "
      f"{np.take_along_axis(truth, top5, axis=1).mean():.3f}")
print(f"precision@5 of the 5 most frequent training tags: {truth[:, popular].mean():.3f}")
for i in range(3):
    print(f"image {i}: true tags {np.flatnonzero(truth[i]).tolist()}, inferred top-5 "
          f"{sorted(top5[i].tolist())}, one Gibbs draw {np.flatnonzero(drawn_tags[i]).tolist()}")
