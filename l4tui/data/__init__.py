"""Datasets: loaders for the lesson's formats and the summaries the Data pane shows."""
