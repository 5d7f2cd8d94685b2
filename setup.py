"""Compatibility shim: all metadata lives in pyproject.toml (nbdev 3 keeps its settings there too).

`pip install -e .` works with or without this file; it exists for older tooling that calls `setup.py`.
"""
from setuptools import setup

setup()
