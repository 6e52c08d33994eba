"""A corpus as its owners ship it: the manifest (:mod:`.manifest`), listing its recordings
(:mod:`.discover`), the files each recording is made of and their fingerprint (:mod:`.sources`),
sidecar labels (:mod:`.sidecars`, found by :mod:`.locate`), the shipped catalogue
(:mod:`.catalogue`) and where each corpus lives on this machine (:mod:`.folders`).
"""
