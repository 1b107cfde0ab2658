"""The guided tour of lesson 4: its steps (steps.toml), read and checked, and where the user stopped."""
