"""Test-data kits: synthetic signals (:mod:`.synth`), an EDF/BDF writer (:mod:`.edf_writer`),
the demo corpora ``eegprep demo`` writes (:mod:`.demo`, :mod:`.demo_labelled`) and one fixture
corpus per real layout (:mod:`.fixtures`). Nothing in the product imports them except the
``demo`` command.
"""
