"""Store -> batches: the window index (:mod:`.windows`), the resumable sampler
(:mod:`.sampler`), the loader (:mod:`.loader`), downstream tasks (:mod:`.tasks`) and their
splits (:mod:`.protocols`).
"""
