"""Take screenshots of the desktop app for review and the README (not a test).

    xvfb-run -s "-screen 0 1280x800x24" python3 tests/ui/screenshots.py /tmp/shots [MODEL_DIR]

Uses a REAL engine on a temporary data folder and a folder of sample notes; without MODEL_DIR the
tiny test model is built (random semantics: keyword evidence does the ranking).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ for support.*

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

NOTES = {
    "Finance/budget-2024.md": "# Budget 2024\n\nThe annual budget allocates funds to research, "
    "travel and equipment. Travel costs rose 12% because of the conference in Lisbon; the "
    "equipment line covers two new laptops and a 3D printer for the lab.",
    "Finance/invoices/invoice-0042.txt": "Invoice 0042 from Nordic Paper Supplies. 40 boxes of A4 "
    "paper, delivery to the Oslo office, payment due within 30 days.",
    "Travel/lisbon-trip.md": "Lisbon trip notes: train from the airport, hotel near Alfama, "
    "conference badge pickup on Monday. Remember to keep receipts for the travel budget.",
    "Recipes/lemon-cake.txt": "Lemon cake: 200 g butter, 200 g sugar, four eggs, zest of two "
    "lemons. Bake for 45 minutes at 175 °C and glaze with lemon juice and icing sugar.",
    "Recipes/tomato-soup.txt": "Roast tomatoes with garlic and onion, blend with stock, season "
    "with basil. Serve with crusty bread.",
    "Code/train_model.py": "def train(model, data, epochs=10):\n    \"\"\"Train the model with "
    "early stopping on the validation loss.\"\"\"\n    for epoch in range(epochs):\n        loss = "
    "model.fit(data)\n",
    "Garden/seedlings.md": "Tomato seedlings need light for 14 hours a day. Transplant after the "
    "last frost; water in the morning, never the leaves.",
    "Music/rehearsal-schedule.txt": "Violin concerto rehearsal on Thursday at 19:00, full "
    "orchestra on Saturday. Bring the marked parts.",
}


def wait_ms(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_until(predicate, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate() and time.monotonic() < deadline:
        wait_ms(50)


def shoot(widget: QWidget, out: Path, name: str) -> None:
    wait_ms(150)
    widget.grab().save(str(out / f"{name}.png"))
    print("saved", out / f"{name}.png")


def write_notes(folder: Path, copies: int = 1) -> None:
    for rel, text in NOTES.items():
        for i in range(copies):
            path = folder / rel if i == 0 else folder / f"{rel}.{i}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text * (1 if i == 0 else 200), encoding="utf-8")


def make_window(data: Path, model: str | None):
    from qfinder.core.library.opener import LibraryOpener
    from qfinder.services.engine import EngineClient
    from qfinder.ui.main_window import MainWindow
    from qfinder.ui.settings import AppSettings

    engine = EngineClient(LibraryOpener(data), model_folder=model)
    window = MainWindow(engine, AppSettings())
    window.resize(1280, 780)
    window.show()
    engine.start()
    wait_until(lambda: window.engine_status is not None and window.engine_status.state != "starting")
    return window, engine


def search(window, text: str) -> None:
    window.ui.search_bar.setText(text)
    window.ui.search_bar.search_now()
    wait_until(lambda: window.search.last_response is not None
               and window.search.last_response.request.request_id == window.search.latest_id, 10)


def main(out: Path, model_dir: str | None) -> int:
    out.mkdir(parents=True, exist_ok=True)
    from qfinder.services import qt_fix

    qt_fix.apply()  # this script composes its own process: importing qfinder applies nothing
    app = QApplication.instance() or QApplication(["qfinder"])
    from qfinder.ui.main import make_application
    from qfinder.ui.setup_dialog import SetupDialog

    make_application([])
    if os.environ.get("QFINDER_SHOT_DARK"):
        from PySide6.QtCore import Qt

        app.styleHints().setColorScheme(Qt.ColorScheme.Dark)
        if app.palette().window().color().lightness() > 128:  # no platform theme: a dark palette
            from PySide6.QtGui import QColor, QPalette

            palette = QPalette()
            for role, color in ((QPalette.ColorRole.Window, "#2b2b2b"), (QPalette.ColorRole.Base, "#1e1e1e"),
                                (QPalette.ColorRole.AlternateBase, "#262626"),
                                (QPalette.ColorRole.Text, "#e6e6e6"), (QPalette.ColorRole.WindowText, "#e6e6e6"),
                                (QPalette.ColorRole.Button, "#353535"), (QPalette.ColorRole.ButtonText, "#e6e6e6"),
                                (QPalette.ColorRole.Highlight, "#3d7bd9"),
                                (QPalette.ColorRole.HighlightedText, "#ffffff"),
                                (QPalette.ColorRole.PlaceholderText, "#9a9a9a"), (QPalette.ColorRole.Link, "#7ab0ff")):
                palette.setColor(role, QColor(color))
            app.setPalette(palette)
    work = Path(tempfile.mkdtemp(prefix="qfinder-shots-"))
    os.environ["QFINDER_DATA_DIR"] = str(work / "data")
    if model_dir is None:
        from support.qwen3 import build_tiny_qwen3

        model_dir = str(build_tiny_qwen3(work / "Qwen3-Embedding-tiny"))
    window, engine = make_window(work / "empty", None)
    shoot(window, out, "1-empty-first-start")
    dialog = SetupDialog(window)
    dialog.show()
    shoot(dialog, out, "2-setup-dialog")
    dialog.close()
    window.close()
    engine.shutdown(3)

    notes = work / "Documents"
    write_notes(notes)
    window, engine = make_window(work / "data", model_dir)
    window.add_folders([str(notes)])
    wait_until(lambda: any(r.files_pending == 0 and r.files_indexed >= len(NOTES)
                           for r in window.root_states))
    search(window, "receipts for the travel budget")
    shoot(window, out, "3-search-results-preview")
    window.resize(1100, 680)
    window.ui.splitter.setSizes([200, 520, 356])
    wait_ms(200)
    shoot(window, out, "7-readme")
    window.resize(1280, 780)
    search(window, "zebra migration kilimanjaro")
    shoot(window, out, "8-no-close-matches")
    search(window, "lemon cake recipe")
    model = window.ui.model
    folded = model.row_of_marker("weaker")
    if folded is not None:
        window.ui.results.setCurrentIndex(model.index(folded, 0))
        model.toggle_weaker()
    shoot(window, out, "9-weaker-matches-expanded")
    search(window, "receipts for the travel budget")
    window.ui.dim.set_dim(32)
    wait_ms(400)
    shoot(window, out, "4-slider-low-dim")
    window.ui.dim.set_dim(10_000)
    wait_ms(400)
    shoot(window, out, "5-slider-high-dim")
    big = work / "Archive"
    write_notes(big, copies=60)
    window.add_folders([str(big)])
    wait_until(lambda: window.ui.status.progress_bar.isVisible()
               and window.ui.status.progress_bar.value() > 20, 30)
    window.ui.folders.list.setCurrentRow(0)
    status = window.ui.status
    print("status:", repr(status.progress_label.text()), status.progress_bar.value(),
          status.progress_bar.maximum(), repr(status.currentMessage()), window.root_states)
    shoot(window, out, "6-folders-indexing")

    window.close()
    engine.shutdown(3)
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/shots"),
                  sys.argv[2] if len(sys.argv) > 2 else None))
