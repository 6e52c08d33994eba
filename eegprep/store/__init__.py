"""The Zarr store: reading it (:mod:`.reader`), writing it (:mod:`.writer`), its recording index
(:mod:`.index`), the typed recording record (:mod:`.record`), chunk files (:mod:`.shards`), the
file-system backends (:mod:`.fs`) and the integrity check (:mod:`.validate`).
"""
