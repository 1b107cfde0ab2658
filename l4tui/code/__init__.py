"""Code navigation: jedi look-ups, the tag stack, the source files the code pane shows."""
