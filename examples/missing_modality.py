"""
Missing modalities: fill them in, or generate them
==================================================

Two uses of a generative multimodal model when a modality is missing at prediction time.

1. :class:`skmultimodal.ModalityImputer` fills the missing block of each row with the model's
   mean-field expectation, so an ordinary classifier trained on complete data keeps working.
   It is compared with filling in the training mean (scikit-learn's ``SimpleImputer``).
2. On synthetic "image features + tags" data sharing latent topics, the model generates tags
   for images that have none: :meth:`~skmultimodal.MultimodalRBM.impute` gives expected tag
   counts and :meth:`~skmultimodal.MultimodalRBM.sample` a Gibbs draw of a tag set.
"""

import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from skmultimodal import ModalityImputer, MultimodalRBM
from skmultimodal.datasets import load_digits_halves, make_multimodal_topics

# 1. Digits with the right half missing at test time ----------------------------------------
digits = load_digits_halves()
X_train, X_test, y_train, y_test = train_test_split(
    digits.data, digits.target, test_size=0.3, random_state=0
)
X_test_left = X_test.copy()
X_test_left[:, digits.modalities[1][1]] = np.nan

rbm = MultimodalRBM(n_components=128, modalities=digits.modalities, visible_units="binary",
                    learning_rate=0.1, n_iter=30, batch_size=32, random_state=0)
for name, imputer in [("ModalityImputer(MultimodalRBM)", ModalityImputer(rbm)),
                      ("SimpleImputer(mean)", SimpleImputer())]:
    model = make_pipeline(imputer, LogisticRegression(max_iter=2000)).fit(X_train, y_train)
    print(f"{name:32s} accuracy, right half missing: {model.score(X_test_left, y_test):.3f}")

# 2. Tags for untagged images ----------------------------------------------------------------
n_image, n_tags = 20, 50
X, topic = make_multimodal_topics(1500, n_image_features=n_image, n_tags=n_tags, noise=0.5,
                                  random_state=0)
X_train, X_test = X[:1200], X[1200:]
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
print(f"\nprecision@5 of tags inferred from image features: "
      f"{np.take_along_axis(truth, top5, axis=1).mean():.3f}")
print(f"precision@5 of the 5 most frequent training tags: {truth[:, popular].mean():.3f}")
for i in range(3):
    print(f"image {i}: true tags {np.flatnonzero(truth[i]).tolist()}, inferred top-5 "
          f"{sorted(top5[i].tolist())}, one Gibbs draw {np.flatnonzero(drawn_tags[i]).tolist()}")
