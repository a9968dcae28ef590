"""The filters bar's "Custom range…": two dates, from and to (both days included)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from PySide6.QtCore import QDate
from PySide6.QtWidgets import QDateEdit, QDialog, QDialogButtonBox, QFormLayout, QWidget


def day_bounds(first: date, last: date) -> tuple[float, float]:
    """(start of `first`, last instant of `last`) in POSIX seconds, local time."""
    start = datetime.combine(first, time.min).timestamp()
    after = datetime.combine(last + timedelta(days=1), time.min).timestamp()
    return start, after - 1e-6


class DateRangeDialog(QDialog):
    def __init__(self, first: date, last: date, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Modified between")
        self.from_edit = self._date_edit(first, "Modified from")
        self.to_edit = self._date_edit(last, "Modified until")
        # an end before the start would match nothing: each edit keeps the other in range
        self.from_edit.dateChanged.connect(self.to_edit.setMinimumDate)
        self.to_edit.setMinimumDate(self.from_edit.date())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("&From", self.from_edit)
        form.addRow("&To (included)", self.to_edit)
        form.addRow(buttons)

    def _date_edit(self, day: date, name: str) -> QDateEdit:
        edit = QDateEdit(QDate(day.year, day.month, day.day), self)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setAccessibleName(name)
        return edit

    def chosen(self) -> tuple[date, date]:
        return self.from_edit.date().toPython(), self.to_edit.date().toPython()  # type: ignore[return-value]
