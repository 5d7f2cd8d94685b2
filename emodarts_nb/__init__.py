"""Differentiable architecture search (emoDARTS) for speech emotion recognition, notebook-first"""
import os

# torch's CPU allocator puts tensors of 2 MB and more in transparent huge pages when this is set: a search step at
# the emoDARTS shape (batch 16, 2 threads) peaks at 4.0 GB instead of 5.4 GB (every edge checkpointed; 5.8 instead
# of 7.0 GB with the CNN edges alone), in about the same time (bench/search.py --checkpoint), and the same values: the
# demo and tutorial 6 end the same with and without it. At 60919f3, 2 rounds taking turns: 25.2 s per step on, 26.2 s off
# (4.0 against 6.0 GB; bench/results/search_emodarts_thp_ab.txt), although a fresh 8 MB tensor can cost more with it.
# torch reads it once, at its first allocation of 2 MB or more, so it applies wherever emodarts_nb is imported before
# such a tensor exists (torch itself may be imported first); THP_MEM_ALLOC_ENABLE=0 keeps torch's default.
os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")

__version__ = "0.1.0"
