"""The Zarr store: reading it (:mod:`.reader`), writing it (:mod:`.writer`), its recording index
(:mod:`.index`), the typed recording record (:mod:`.record`), the stored encoding
(:mod:`.encoding`), chunk files (:mod:`.shards`) and their direct reader
(:mod:`.shard_reader`), the file-system backends (:mod:`.fs`) and the integrity check
(:mod:`.validate`).
"""
