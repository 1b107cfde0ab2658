"""l4tui: a terminal app for exploring, training and understanding the models of fast.ai's lesson 4."""

__version__ = "0.1.0"
