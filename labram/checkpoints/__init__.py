"""Checkpoint files in and out: safe reading and writing (:mod:`.files`), the released and our
own parameter layouts and conversion between them (:mod:`.layouts`), and any checkpoint ->
a model ready to use (:mod:`.load`).
"""
