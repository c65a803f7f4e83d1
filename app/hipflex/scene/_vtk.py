"""The VTK classes the scene uses, imported from their own modules.

``import vtk`` loads every VTK module (readers, filters, views: about 0.3 s of start-up); the
window needs only these, and the OpenGL back end and text rendering that pyvista loads anyway.
"""

import vtkmodules.vtkRenderingFreeType  # text rendering
import vtkmodules.vtkRenderingOpenGL2  # noqa: F401  (the OpenGL back end)
from vtkmodules.vtkCommonCore import vtkDataArray, vtkLookupTable, vtkPoints
from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData
from vtkmodules.vtkCommonExecutionModel import vtkAlgorithm
from vtkmodules.vtkCommonMath import vtkMatrix4x4
from vtkmodules.vtkFiltersCore import vtkTubeFilter
from vtkmodules.vtkFiltersGeneral import vtkOBBTree
from vtkmodules.vtkFiltersSources import vtkLineSource, vtkSphereSource
from vtkmodules.vtkRenderingAnnotation import vtkCaptionActor2D, vtkScalarBarActor
from vtkmodules.vtkRenderingCore import (
    vtkActor,
    vtkActor2D,
    vtkCoordinate,
    vtkPolyDataMapper,
    vtkPolyDataMapper2D,
    vtkProp,
    vtkPropPicker,
    vtkRenderer,
    vtkTextActor,
)

__all__ = [
    "vtkActor",
    "vtkActor2D",
    "vtkAlgorithm",
    "vtkCaptionActor2D",
    "vtkCellArray",
    "vtkCoordinate",
    "vtkDataArray",
    "vtkLineSource",
    "vtkLookupTable",
    "vtkMatrix4x4",
    "vtkOBBTree",
    "vtkPoints",
    "vtkPolyData",
    "vtkPolyDataMapper",
    "vtkPolyDataMapper2D",
    "vtkProp",
    "vtkPropPicker",
    "vtkRenderer",
    "vtkScalarBarActor",
    "vtkSphereSource",
    "vtkTextActor",
    "vtkTubeFilter",
]
