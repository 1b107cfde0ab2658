"""Training: the recipes and their options, the loop, schedules, lr_find, the run process
(worker.py) and the launcher that starts it. A run's folder is written through l4tui.runs.

Nothing here imports torch at import time; the run process imports it when it trains.
"""
