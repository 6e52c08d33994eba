"""``python -m eegprep ...``: the ``eegprep`` command, for an environment whose scripts folder
is not on ``PATH`` (a virtual environment used without activating it, Windows)."""

from eegprep._console import eegprep_main

if __name__ == "__main__":
    eegprep_main()
