"""The commands a user runs: train the tokenizer, pre-train, fine-tune and evaluate, predict,
embed, export, report. Each stage assembles the layers below; nothing imports a stage except
the CLI and other stages.
"""
