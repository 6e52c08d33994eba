"""Corpus -> store: one recording's ingest task (:mod:`.task`), the worker pool
(:mod:`.workers`), the in-memory path for ``labram predict`` (:mod:`.inmemory`), the checks
of an ingest's options (:mod:`.options`), and the driver that plans, runs and commits a whole
ingest (:mod:`.driver`).

(Not named ``ingest``: :func:`eegprep.ingest` is the public function.)
"""
