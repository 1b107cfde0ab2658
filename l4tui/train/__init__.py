"""Training: the loop, schedules, the runs store and the launcher of detached runs.

Nothing here imports torch at import time; the run process imports it when it trains.
"""
