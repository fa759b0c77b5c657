"""The Scan dialog: choose a source (SANE scanner or camera), a device, resolution and colour; acquire off-thread."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QWidget,
)

from htr_desktop import background
from htr_desktop.scanning import Scanner, ScannerUnavailable, ScanSettings
from htr_desktop.settings import Settings


class ScanDialog(QDialog):
    """Emits ``scanned(image)`` when an image was acquired; problems are shown in the dialog, never raised."""

    scanned = Signal(object)  # numpy array (gray or BGR)

    def __init__(self, scanners: list[Scanner], settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Scan")
        self.scanners = scanners
        self.settings = settings
        self._request = 0  # only the latest search or scan may answer (a late, slow SANE search must not)
        self.source = QComboBox()
        for scanner in scanners:
            self.source.addItem(scanner.name)
        self.device = QComboBox()
        self.device.setEditable(True)  # a device name can be typed (e.g. SANE's "test" or "net:host:...")
        self.device.setEditText(settings.get("scan/device"))
        self.refresh = QPushButton("Find devices")
        self.resolution = QSpinBox()
        self.resolution.setRange(50, 1200)
        self.resolution.setSingleStep(50)
        self.resolution.setSuffix(" dpi")
        self.resolution.setValue(settings.get("scan/resolution"))
        self.color = QCheckBox("Colour (otherwise gray)")
        self.color.setChecked(settings.get("scan/color"))
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.scan_button = self.buttons.addButton("Scan", QDialogButtonBox.ButtonRole.AcceptRole)
        form = QFormLayout(self)
        form.addRow("Source", self.source)
        form.addRow("Device", self.device)
        form.addRow("", self.refresh)
        form.addRow("Resolution", self.resolution)
        form.addRow("", self.color)
        form.addRow(self.status)
        form.addRow(self.buttons)
        self.refresh.clicked.connect(self.find_devices)
        self.source.currentIndexChanged.connect(self.find_devices)
        self.buttons.rejected.connect(self.reject)
        self.scan_button.clicked.connect(self.start_scan)

    @property
    def scanner(self) -> Scanner:
        """The chosen backend."""
        return self.scanners[self.source.currentIndex()]

    def _say(self, text: str) -> None:
        self.status.setText(text)

    def _latest(self, done: Callable[[Any], None], failed: Callable[[Any], None],
                ) -> tuple[Callable[[Any], None], Callable[[Any], None]]:
        """The callbacks of a new request; they do nothing once a newer request was made."""
        self._request += 1
        token = self._request

        def guard(callback: Callable[[Any], None]) -> Callable[[Any], None]:
            return lambda value: callback(value) if token == self._request else None

        return guard(done), guard(failed)

    def find_devices(self) -> None:
        """List the backend's devices in the background."""
        self._say("Looking for devices…")
        self.refresh.setEnabled(False)
        background.run(self.scanner.devices, *self._latest(self._show_devices, self._failed), (ScannerUnavailable,))

    def _show_devices(self, devices: list[tuple[str, str]]) -> None:
        self.refresh.setEnabled(True)
        typed = self.device.currentText()
        self.device.clear()
        for dev_id, label in devices:
            self.device.addItem(label, dev_id)
        if typed and not devices:
            self.device.setEditText(typed)
        self._say(f"{len(devices)} device(s) found." if devices else
                  "No device found. Connect and switch on a scanner, or type a device name.")

    def _failed(self, message: str) -> None:
        self.refresh.setEnabled(True)
        self.scan_button.setEnabled(True)
        self._say(message)

    def current_settings(self) -> ScanSettings:
        """The device (id of the chosen item, or the typed name), resolution and colour."""
        index = self.device.currentIndex()
        text = self.device.currentText().strip()
        dev_id = self.device.itemData(index) if index >= 0 and self.device.itemText(index) == text else text
        return ScanSettings(str(dev_id or ""), self.resolution.value(), self.color.isChecked())

    def start_scan(self) -> None:
        """Acquire in the background; the dialog stays responsive."""
        chosen = self.current_settings()
        self.settings.set("scan/device", chosen.device)
        self.settings.set("scan/resolution", chosen.resolution)
        self.settings.set("scan/color", chosen.color)
        self.scan_button.setEnabled(False)
        self._say(f"Scanning from {chosen.device or 'the default device'}…")
        scanner = self.scanner
        background.run(lambda: scanner.scan(chosen), *self._latest(self._scanned, self._failed), (ScannerUnavailable,))

    def _scanned(self, image: np.ndarray) -> None:
        self.scan_button.setEnabled(True)
        self._say("Scanned.")
        self.scanned.emit(image)
        self.accept()
