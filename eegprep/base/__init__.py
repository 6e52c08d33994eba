"""The foundation every other layer stands on: errors, argument checks, strict JSON,
credential redaction, resource limits, atomic local writes, and the version. Imports nothing
else from eegprep.
"""
