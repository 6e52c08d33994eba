"""The version of the `labram` distribution (both packages), and its only copy.

pyproject.toml reads it from here (``[tool.setuptools.dynamic]``); ``eegprep.__version__`` and
``labram.__version__`` re-export it, and every store records it (``eegprep_version``).
"""

__version__ = "0.1.0"
