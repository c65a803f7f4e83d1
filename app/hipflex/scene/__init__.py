"""Scene building and offscreen rendering (pyvista/VTK). Sits above hipflex.model, below the UI."""
