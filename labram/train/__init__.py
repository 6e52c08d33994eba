"""The training loop and what it needs: the run configuration (:mod:`.config`), optimiser and
schedule (:mod:`.optim`), training checkpoints (:mod:`.checkpoint`), the loop (:mod:`.loop`),
logs (:mod:`.runlog`), metrics (:mod:`.metrics`), processes (:mod:`.distributed`) and the
pre-training subject record (:mod:`.leakage`).
"""
