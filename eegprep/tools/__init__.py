"""What users run on a finished store: statistics (:mod:`.stats`), the HTML report
(:mod:`.report`) and MNE interoperability (:mod:`.interop`).
"""
