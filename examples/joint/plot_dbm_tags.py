"""
Multimodal DBM: tags generated for images, images retrieved by tags
===================================================================

The two demonstrations of Srivastava & Salakhutdinov (2012), on synthetic data with the
structure of MIR-Flickr (:func:`skmultimodal.datasets.make_multimodal_topics`: Gaussian
"image features" and sparse tag counts generated from shared latent topics).

1. **Generating text conditioned on images.** The tags of test images are hidden (NaN) and
   the :class:`~skmultimodal.MultimodalDBM` fills them in: :meth:`~skmultimodal.
   MultimodalDBM.top_words` ranks the tags by their mean-field expectation given the image,
   :meth:`~skmultimodal.MultimodalDBM.sample` draws a tag set by Gibbs sampling with the
   image clamped.
2. **Image retrieval from text queries.** A query is a handful of tags and no image; the
   database holds images without tags. Both are mapped by
   :meth:`~skmultimodal.MultimodalDBM.transform` to the top layer's posterior (the missing
   modality inferred in the same mean-field loop), and the nearest database images in that
   space are returned (:func:`skmultimodal.retrieval.nearest_neighbors`).

The tags are named after the topic they are most typical of (``beach-3`` is a tag of the
beach topic), so that the figure can be read at a glance.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.preprocessing import StandardScaler

from skmultimodal import MultimodalDBM
from skmultimodal.datasets import make_multimodal_topics
from skmultimodal.retrieval import nearest_neighbors

n_image, n_tags, n_topics = 30, 60, 6
X, topic = make_multimodal_topics(3000, n_topics=n_topics, n_image_features=n_image,
                                  n_tags=n_tags, doc_length=8, noise=1.0, random_state=0)
X_train, X_test = X[:2000], X[2000:]
topic_test = topic[2000:]
# Gaussian units have unit variance: standardise the image features
scaler = StandardScaler().fit(X_train[:, :n_image])
X_train[:, :n_image] = scaler.transform(X_train[:, :n_image])
X_test[:, :n_image] = scaler.transform(X_test[:, :n_image])
counts = X_train[:, n_image:]
topic_names = np.array(["beach", "city", "forest", "night", "people", "food"])
lift = np.array([counts[topic[:2000] == k].mean(axis=0) for k in range(n_topics)])
vocabulary = np.array([f"{topic_names[k]}-{j}" for j, k in enumerate(lift.argmax(axis=0))])

dbm = MultimodalDBM(n_components=64, pathways=(64,),
                    modalities=[("image", slice(0, n_image)), ("tags", slice(n_image, None))],
                    visible_units=["gaussian", "replicated_softmax"], n_iter_pretrain=20,
                    n_iter=10, random_state=0).fit(X_train)

# %%
# 1. Tags for untagged images
# ---------------------------
untagged = X_test.copy()
untagged[:, n_image:] = np.nan
top5 = dbm.top_words(untagged, k=5, modality="tags")
drawn = dbm.sample(untagged[:4], n_steps=50, doc_length=20, random_state=0)[:, n_image:]
truth = X_test[:, n_image:] > 0
popular = np.argsort(-X_train[:, n_image:].sum(axis=0))[:5]
print("Generating tags conditioned on images")
for i in range(4):
    most_drawn = np.argsort(-drawn[i], kind="stable")[:5]
    print(f"  image {i} (topic {topic_test[i]}): true {', '.join(vocabulary[truth[i]])}")
    print(f"      mean-field top-5: {', '.join(vocabulary[top5[i]])}; most drawn in 20 "
          f"sampled tags: {', '.join(vocabulary[most_drawn])}")
print(f"  precision@5 of the generated tags over {len(X_test)} images: "
      f"{np.take_along_axis(truth, top5, axis=1).mean():.3f} (the 5 most frequent training "
      f"tags: {truth[:, popular].mean():.3f})")

# %%
# The expected tag counts of six untagged test images, their eight highest: green bars are
# tags the image really has, grey bars tags it does not have.
expected = dbm.impute(untagged)[:, n_image:]
fig, axes = plt.subplots(2, 3, figsize=(9, 5))
for i, ax in enumerate(axes.ravel()):
    best = np.argsort(-expected[i], kind="stable")[:8][::-1]
    colors = np.where(truth[i, best], "tab:green", "tab:gray")
    ax.barh(np.arange(8), expected[i, best], color=colors)
    ax.set_yticks(np.arange(8), vocabulary[best], fontsize=8)
    ax.set_title(f"test image {i} (topic: {topic_names[topic_test[i]]})", fontsize=9)
    ax.set_xlabel("expected count", fontsize=8)
fig.suptitle("Tags generated for untagged images (green: a true tag)")
fig.tight_layout()
plt.show()

# %%
# 2. Images for text queries
# --------------------------
database = X_test.copy()
database[:, n_image:] = np.nan  # images without tags
database_codes = dbm.transform(database)
print("\nImage retrieval from text queries (10 nearest images; relevant: same topic)")
precisions = []
for k in range(n_topics):
    # the query: the three tags most typical of topic k in the training data
    lift = counts[topic[:2000] == k].mean(axis=0) / (counts.mean(axis=0) + 1e-3)
    words = np.argsort(-lift)[:3]
    query = np.full((1, X.shape[1]), np.nan)
    query[0, n_image:] = 0.0
    query[0, n_image + words] = 1.0
    _, found = nearest_neighbors(dbm.transform(query), database_codes, n_neighbors=10,
                                 metric="cosine")
    precisions.append(np.mean(topic_test[found[0]] == k))
    print(f"  query {', '.join(vocabulary[words]):22s} -> topics of the images found: "
          f"{', '.join(topic_names[topic_test[found[0]]])}")
print(f"  mean precision@10: {np.mean(precisions):.2f} (a random image has the query's "
      f"topic with probability {1 / n_topics:.2f})")
