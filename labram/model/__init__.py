"""The LaBraM networks: configurations (:mod:`.config`), transformer layers (:mod:`.layers`),
the backbone (:mod:`.backbone`), the VQ-NSP tokenizer (:mod:`.tokenizer`, :mod:`.quantizer`),
masked EEG modelling (:mod:`.mem`), the classifier (:mod:`.classifier`) and the authors' weight
initialisation (:mod:`.original_init`). Imports torch and eegprep's base only.
"""
