"""The science: kinematics, muscle paths, moment arms, capacity, activity and explanations.

Pure numpy/scipy; nothing here knows about Qt, VTK or pyvista (an import-linter contract
in pyproject.toml enforces it).
"""
