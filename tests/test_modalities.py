import numpy as np
import pytest
import scipy.sparse as sp

from skmultimodal import split_modalities, stack_modalities
from skmultimodal._modalities import missing_mask, resolve_modalities


def test_none_splits_in_halves():
    assert resolve_modalities(None, 5) == [("m0", slice(0, 2)), ("m1", slice(2, 5))]


def test_widths():
    assert resolve_modalities([2, 3, 1], 6) == [
        ("m0", slice(0, 2)), ("m1", slice(2, 5)), ("m2", slice(5, 6))
    ]


def test_pairs_with_slices_indices_and_names():
    names = np.array(["a", "b", "c", "d"], dtype=object)
    resolved = resolve_modalities([("img", [3, 0]), ("txt", ["b", "c"])], 4, names)
    assert resolved[0][0] == "img"
    np.testing.assert_array_equal(resolved[0][1], [3, 0])
    assert resolved[1] == ("txt", slice(1, 3))
    assert resolve_modalities([("x", slice(0, 2)), ("y", slice(2, None))], 4)[1] == (
        "y", slice(2, 4)
    )


@pytest.mark.parametrize(
    "spec, n_features, match",
    [
        (None, 1, "1 feature"),
        ([2, 2], 5, "sum to 4"),
        ([2, 0, 3], 5, "'m1' has width 0"),
        ([("a", slice(0, 3)), ("b", slice(2, 5))], 5, "'a' and 'b' overlap"),
        ([("a", [0, 1]), ("b", [2, 7])], 5, "'b': column indices \\[7\\] are out of range"),
        ([("a", [0, 1]), ("b", [2, 3])], 5, "Columns \\[4\\] belong to no modality"),
        ([("a", ["x"]), ("b", slice(1, 5))], 5, "'a' selects columns by name"),
        ([("a", slice(0, 0)), ("b", slice(0, 5))], 5, "'a' selects no columns"),
        ([("a", slice(0, 2)), ("a", slice(2, 5))], 5, "unique"),
        ([2, ("b", slice(2, 5))], 5, "not a mixture"),
        ([("a", 0), ("b", slice(1, 5))], 5, "Wrap a single column"),
        ([], 5, "non-empty"),
    ],
)
def test_bad_specs(spec, n_features, match):
    with pytest.raises(ValueError, match=match):
        resolve_modalities(spec, n_features)


def test_unknown_column_name():
    names = np.array(["a", "b", "c"], dtype=object)
    with pytest.raises(ValueError, match="'t': unknown column names \\['z'\\]"):
        resolve_modalities([("i", ["a", "b"]), ("t", ["z"])], 3, names)


def test_missing_mask_dense_and_sparse():
    X = np.arange(12, dtype=float).reshape(3, 4)
    X[0, 2:] = np.nan
    X[2, :2] = np.nan
    resolved = resolve_modalities(None, 4)
    expected = [[False, True], [False, False], [True, False]]
    np.testing.assert_array_equal(missing_mask(X, resolved), expected)
    np.testing.assert_array_equal(missing_mask(sp.csr_matrix(X), resolved), expected)


@pytest.mark.parametrize("sparse", [False, True])
def test_partly_nan_block_names_modality_and_rows(sparse):
    X = np.ones((4, 4))
    X[1, 3] = np.nan
    X[3, 2] = np.nan
    X = sp.csr_matrix(X) if sparse else X
    with pytest.raises(ValueError, match=r"Modality 'm1' is partly NaN in rows \[1, 3\]"):
        missing_mask(X, resolve_modalities(None, 4))


@pytest.mark.parametrize("sparse", [False, True])
def test_inf_is_an_error(sparse):
    X = np.ones((3, 4))
    X[2, 0] = -np.inf
    X = sp.csr_matrix(X) if sparse else X
    with pytest.raises(ValueError, match="infinity in modality 'm0'"):
        missing_mask(X, resolve_modalities(None, 4))


def test_all_missing_row():
    X = np.ones((3, 4))
    X[1] = np.nan
    with pytest.raises(ValueError, match=r"Rows \[1\] have every modality missing"):
        missing_mask(X, resolve_modalities(None, 4))
    assert missing_mask(X, resolve_modalities(None, 4), allow_all_missing=True)[1].all()


def test_stack_split_round_trip():
    rng = np.random.default_rng(0)
    a, b = rng.random((5, 3)), rng.random((5, 2))
    X, modalities = stack_modalities([a, b], names=["image", "tags"])
    assert modalities == [("image", slice(0, 3)), ("tags", slice(3, 5))]
    a2, b2 = split_modalities(X, modalities)
    np.testing.assert_array_equal(a, a2)
    np.testing.assert_array_equal(b, b2)
    Xs, _ = stack_modalities([sp.csr_matrix(a), b])
    assert sp.issparse(Xs) and Xs.format == "csr"
    np.testing.assert_array_equal(split_modalities(Xs, [3, 2])[1].toarray(), b)


def test_split_dataframe_by_names():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(np.arange(8.0).reshape(2, 4), columns=["p", "q", "r", "s"])
    img, txt = split_modalities(df, [("img", ["p", "r"]), ("txt", ["q", "s"])])
    assert list(img.columns) == ["p", "r"] and list(txt.columns) == ["q", "s"]


def test_stack_errors():
    with pytest.raises(ValueError, match="same number of rows"):
        stack_modalities([np.ones((2, 2)), np.ones((3, 2))])
    with pytest.raises(ValueError, match="2-dimensional"):
        stack_modalities([np.ones(2), np.ones((2, 2))])
    with pytest.raises(ValueError, match="2 blocks but 1 names"):
        stack_modalities([np.ones((2, 2)), np.ones((2, 2))], names=["a"])


def test_modality_ranges_ignore_missing_blocks_and_count_sparse_zeros():
    from skmultimodal._modalities import modality_ranges

    X = np.array([[0.5, 2.0, np.nan, np.nan], [-1.0, 3.0, 4.0, 5.0]])
    resolved = resolve_modalities(None, 4)
    assert modality_ranges(X, resolved) == [(-1.0, 3.0), (4.0, 5.0)]
    assert modality_ranges(sp.csr_matrix(X), resolved) == [(-1.0, 3.0), (4.0, 5.0)]
    S = sp.csr_matrix(np.array([[0.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0]]))
    assert modality_ranges(S, resolved) == [(0.0, 2.0), (3.0, 4.0)]
    X[:, 2:] = np.nan
    assert modality_ranges(X, resolved)[1] == (0.0, 0.0)
