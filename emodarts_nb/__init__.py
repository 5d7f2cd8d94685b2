"""Differentiable architecture search (emoDARTS) for speech emotion recognition, notebook-first"""

__version__ = "0.1.0"
