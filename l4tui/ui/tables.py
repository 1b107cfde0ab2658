"""The app's DataTable: Textual's, drawn again once its columns have been measured.

Textual's DataTable (8.2) measures the cells of new rows when it is next idle and widens their
columns then; but lines drawn in between (a table cleared and filled again, then drawn before it
was idle: on a busy machine) were cached at the old widths, under keys that do not include the
widths, and were shown again: the Layers tab's 133,977 read 133,97 and the tabular screen's
1226900 read 122690 (issue 22's snapshot tests caught it, depending on timing; tests/test_tables.py
reproduces it). After each measuring, the cached drawing is
dropped, the way Textual drops it after any other update.
"""

from textual.widgets import DataTable as TextualDataTable


class DataTable(TextualDataTable):
    def _update_dimensions(self, new_rows) -> None:
        super()._update_dimensions(new_rows)
        # Private, as the bug is: the update counter is in every cache key of the table's
        # drawing (cells, rows, lines); moving it on is how Textual itself invalidates them.
        self._update_count += 1
        self.refresh()
