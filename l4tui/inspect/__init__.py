"""Looking inside models: summaries, parameters, activations. Plain functions the Model pane shows."""
