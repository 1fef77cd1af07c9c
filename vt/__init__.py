"""Reference reproduction of Visual Transformers (Wu et al., 2020, arXiv 2006.03677)."""

__version__ = "0.1.0"
