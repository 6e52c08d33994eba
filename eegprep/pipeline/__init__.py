"""What happens to one recording's samples between the reader and the store: the canonical
channel vocabulary and mapping (:mod:`.channels`), the preprocessing recipe (:mod:`.recipe`),
filtering and resampling (:mod:`.preprocess`), and quality control (:mod:`.qc`).
"""
