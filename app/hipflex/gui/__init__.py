"""The Qt desktop explorer (PySide6 + pyvistaqt): the top layer; everything below is Qt-free."""
