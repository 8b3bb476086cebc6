"""Sphinx configuration of the skmultimodal documentation.

Build with (from the repository root)::

    python -m sphinx -W --keep-going -b html doc doc/_build/html
"""

import os
import re
import sys

# Import the package from the source tree, so the docs build without installing it.
sys.path.insert(0, os.path.abspath(".."))

import skmultimodal  # noqa: E402

# -- Project information ---------------------------------------------------------------------

project = "skmultimodal"
author = "The skmultimodal developers"
copyright = "2025, The skmultimodal developers"
release = skmultimodal.__version__
version = ".".join(release.split(".")[:2])

# -- General configuration -------------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.doctest",
    "numpydoc",
]

templates_path = []
exclude_patterns = ["_build"]
root_doc = "index"
default_role = "literal"  # `x` renders as code, as in scikit-learn's docs

# Stub pages of the API reference are generated into doc/generated/ (git-ignored).
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"

# numpydoc renders the Parameters / Returns / Attributes sections. Methods are listed by
# autodoc (members above), not as numpydoc autosummary tables, which would ask for stub
# pages of every method and attribute.
numpydoc_show_class_members = False
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()

# No network access: no intersphinx mapping. References to scikit-learn / numpy objects
# render as plain code.

# -- Docstrings inherited from scikit-learn --------------------------------------------------
#
# Estimator pages also document the methods inherited from scikit-learn's base classes
# (get_params, set_output, fit_transform, ...). Their docstrings cross-reference labels of
# scikit-learn's own documentation (e.g. ``:ref:`User Guide <metadata_routing>```), which do
# not exist here and cannot be resolved without intersphinx (no network). Render those
# references as plain text, for docstrings of objects defined in scikit-learn only; the
# package's own docstrings are left untouched so that their broken references still fail.

_FOREIGN_ROLE = re.compile(r":(?:ref|term|doc):`(?:([^`<]*?)\s*<[^`>]*>|([^`]*))`")


def _foreign_role_as_text(match):
    text = match.group(1) if match.group(1) is not None else match.group(2)
    return f"*{text.strip()}*" if text.strip() else ""


def _plain_sklearn_references(app, what, name, obj, options, lines):
    module = getattr(obj, "__module__", None) or ""
    if not module.startswith("sklearn"):
        return
    lines[:] = [_FOREIGN_ROLE.sub(_foreign_role_as_text, line) for line in lines]


def setup(app):
    app.connect("autodoc-process-docstring", _plain_sklearn_references)


# -- HTML output -----------------------------------------------------------------------------

html_theme = "alabaster"
html_title = f"skmultimodal {release}"
html_static_path = []
html_theme_options = {
    "description": "scikit-learn compatible multimodal estimators",
    "fixed_sidebar": True,
}
