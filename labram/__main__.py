"""``python -m labram ...``: the ``labram`` command, for an environment whose scripts folder is
not on ``PATH``, and for ``torchrun -m labram pretrain ...``."""

from eegprep._console import labram_main

if __name__ == "__main__":
    labram_main()
