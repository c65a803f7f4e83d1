"""Engine plots (matplotlib, no Qt): the same figures for the window, exports and handouts."""
