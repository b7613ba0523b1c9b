"""The Textual app: Home, Import and (later) training and chat screens.

Keep module-level imports light here and below: no torch/transformers, so the first screen draws fast.
"""
