"""The Qt desktop explorer (PySide6 + VTK's Qt widget): the top layer; everything below is Qt-free."""
