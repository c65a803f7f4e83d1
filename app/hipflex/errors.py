"""Errors HipFlex expects and reports in one line, without a traceback."""


class HipFlexError(Exception):
    """An expected failure: the CLI prints its message on one line and exits non-zero."""


class AssetError(HipFlexError):
    """A source file or the asset pack is missing, corrupt or inconsistent."""


class DataError(HipFlexError):
    """A file in anatomy_data/ (or a session file) failed validation."""


class PoseError(HipFlexError):
    """A pose is outside its joint range, not finite, or names an unknown muscle."""
