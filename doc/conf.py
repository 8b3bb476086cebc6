"""Sphinx configuration of the skmultimodal documentation.

Build with (from the repository root)::

    python -m sphinx -W --keep-going -b html doc doc/_build/html

The example gallery executes the fast examples (each a few seconds) and shows the slow ones
(listed in ``SLOW_EXAMPLES``) without running them. To build the full gallery, with every
example's figures and output::

    SKMULTIMODAL_FULL_GALLERY=1 python -m sphinx -W --keep-going -b html doc doc/_build/html

and ``-D plot_gallery=0`` builds no example at all (the quickest build, for editing text).
"""

import os
import re
import sys
import warnings

# Import the package from the source tree, so the docs build without installing it.
sys.path.insert(0, os.path.abspath(".."))

import skmultimodal  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402  (a scikit-learn dependency)

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
    "sphinx_gallery.gen_gallery",
    "sphinx_copybutton",
    # MathJax served from this site's _static/mathjax (no network; see mathjax_path below)
    "sphinx-mathjax-offline",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/**/*.ipynb"]
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

# -- Math: MathJax 3 from the site itself -------------------------------------------------
#
# The sphinx-mathjax-offline extension copies MathJax into _build/html/_static/mathjax; the
# pages load it from there, never from a CDN.
mathjax_path = "mathjax/tex-chtml.js"

# -- Example gallery -------------------------------------------------------------------------

# Examples that take more than about 10 s on 2 cores with the compiled kernels cached
# (measured; the others take 3-10 s). The test suite runs every example
# (tests/test_examples.py); the docs build shows these without running them, so that CI does
# not pay for them twice, unless SKMULTIMODAL_FULL_GALLERY is set.
SLOW_EXAMPLES = ["plot_imputed_halves.py"]
FULL_GALLERY = os.environ.get("SKMULTIMODAL_FULL_GALLERY", "") not in ("", "0")
_executed = ".*" if FULL_GALLERY else (
    r"^(?!.*(?:" + "|".join(re.escape(name) for name in SLOW_EXAMPLES) + r")$).*\.py$"
)

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": _executed,
    "subsection_order": [
        "../examples/joint",
        "../examples/missing",
        "../examples/coordinated",
        "../examples/embedding",
    ],
    "within_subsection_order": "FileNameSortKey",
    # "Examples using X" on the API pages (see _templates/autosummary)
    "backreferences_dir": "generated/backreferences",
    "doc_module": ("skmultimodal",),
    "inspect_global_variables": False,
    "reset_modules": ("matplotlib",),
    "remove_config_comments": True,
    "min_reported_time": 5,
    "show_signature": False,
    "download_all_examples": False,
    # no per-gallery timing pages: they load jQuery and DataTables from a CDN
    "write_computation_times": False,
}

# The examples are small (at most a few thousand rows): single-threaded BLAS runs them as
# fast, and does not oversubscribe a machine busy with other work (two BLAS threads on a
# loaded 2-core machine made some examples ten times slower).
threadpool_limits(1)

# Matplotlib draws into files, never into a window (the examples call plt.show()).
os.environ.setdefault("MPLBACKEND", "Agg")
warnings.filterwarnings("ignore", message="FigureCanvasAgg is non-interactive")

# -- Docstrings inherited from scikit-learn --------------------------------------------------
#
# Estimator pages also document the methods inherited from scikit-learn's base classes
# (get_params, set_output, fit_transform, ...). Their docstrings cross-reference labels of
# scikit-learn's own documentation (e.g. ``:ref:`User Guide <metadata_routing>``` or the
# gallery example ``sphx_glr_auto_examples_miscellaneous_plot_set_output.py``), which do not
# exist here and cannot be resolved without intersphinx (no network). Rewrite them, in
# docstrings of objects defined in scikit-learn only, as links into scikit-learn's site where
# the address follows from the label (gallery examples, glossary terms) and as plain text
# otherwise; the package's own docstrings are left untouched so that their broken references
# still fail the build.

SKLEARN_DOCS = "https://scikit-learn.org/stable"
_FOREIGN_ROLE = re.compile(r":(ref|term|doc):`(?:([^`<]*?)\s*<([^`>]*)>|([^`]*))`")
_SKLEARN_EXAMPLE = re.compile(r"sphx_glr_auto_examples_([a-z]+(?:_[a-z]+)*?)_(plot_\w+)\.py")


def _foreign_role_as_text(match):
    role, text, target = match.group(1), match.group(2), match.group(3)
    if text is None:  # :role:`target` without an explicit title
        text = target = match.group(4)
    text = text.strip()
    example = _SKLEARN_EXAMPLE.fullmatch(target.strip())
    if role == "ref" and example:
        folder, name = example.groups()
        title = f"{name}.py" if text == target else text
        return (f"scikit-learn's example `{title} "
                f"<{SKLEARN_DOCS}/auto_examples/{folder}/{name}.html>`__")
    if role == "term":
        anchor = re.sub(r"[^a-z0-9]+", "-", target.strip().lower()).strip("-")
        return f"`{text} <{SKLEARN_DOCS}/glossary.html#term-{anchor}>`__"
    if role == "ref" and text.lower() == "user guide":
        return f"`user guide <{SKLEARN_DOCS}/user_guide.html>`__ of scikit-learn"
    return f"*{text}*" if text else ""


def _plain_sklearn_references(app, what, name, obj, options, lines):
    module = getattr(obj, "__module__", None) or ""
    if not module.startswith("sklearn"):
        return
    lines[:] = [_FOREIGN_ROLE.sub(_foreign_role_as_text, line) for line in lines]


def setup(app):
    app.connect("autodoc-process-docstring", _plain_sklearn_references)


# -- HTML output -----------------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"skmultimodal {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_favicon = "_static/favicon.svg"
html_show_sourcelink = False
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"index": [], "which_estimator": []}
html_context = {"default_mode": "light"}

copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
