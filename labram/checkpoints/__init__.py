"""Checkpoint files in and out: read without running code (:mod:`.safe_read`), what they may hold
and the writers' check (:mod:`.contents`), safetensors (:mod:`.safetensors_files`), where a
model file may be written (:mod:`.output_paths`), an export's files and cards
(:mod:`.export_journal`, :mod:`.cards`), the released and our own parameter layouts and
conversion between them (:mod:`.layouts`), and any checkpoint -> a model ready to use
(:mod:`.load`).
"""
