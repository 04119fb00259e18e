"""Sphinx configuration: numpydoc API reference, user guide, sphinx-gallery examples."""

import os

import skgw

project = "skgw"
author = "skgw developers"
copyright = "2026, skgw developers"
version = release = skgw.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "generated/*.examples"]
autosummary_generate = True
# scikit-learn's generated metadata-routing setters point into scikit-learn's own glossary.
autodoc_default_options = {
    "members": True,
    "inherited-members": False,
    "exclude-members": "set_fit_request, set_predict_request, set_score_request, "
    "set_transform_request, set_inverse_transform_request",
}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
default_role = "literal"

html_theme = "pydata_sphinx_theme"
html_title = "skgw"
html_static_path = ["_static"]
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}

# The gallery runs every example headless; SKGW_DOC_SKIP_GALLERY=1 builds the pages without
# running them (quick local edits).
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "plot_gallery": "False" if os.environ.get("SKGW_DOC_SKIP_GALLERY") else "True",
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("skgw",),
    "reference_url": {"skgw": None},
    "backreferences_dir": "generated",
    "matplotlib_animations": False,
}
