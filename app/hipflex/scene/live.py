"""The live scene: persistent actors that follow the state, for the window and for offscreen stills.

Bones move by their actor matrices (no vertex copies); muscle surfaces are re-skinned in place
with their normals; lines of action are updated from one batched engine call per pose. A muscle
the mesh sources leave out (no ``mesh`` in anatomy_data) has no surface to skin: where the others
show their surfaces it is drawn as a tube along its lines of action (``stand_in_radius``), in its
colour, picked, hidden and selected like a surface. The
window (``hipflex.gui.vtkwidget.NativePlotter``) and offscreen exports
(``pv.Plotter(off_screen=True)``) both draw through ``LiveScene.apply``, so a handout shows
exactly what the window shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

import numpy as np
import pyvista as pv
from numpy.typing import NDArray
from vtkmodules.util.numpy_support import vtk_to_numpy

from hipflex.model.contact import bone_contact
from hipflex.model.wrapping import path_point_bodies
from hipflex.scene import _vtk as vtk
from hipflex.scene.builder import BONE_COLOUR, LINE_COLOUR, SceneBuilder, _polydata
from hipflex.scene.builder import Pose as ScenePose
from hipflex.scene.colours import MOMENT_ARM_COLOUR, LegendSpec, legend, muscle_colours
from hipflex.scene.deform import (
    PathSkin,
    SkinSet,
    bone_distance_fns,
    decimated,
    line_polylines,
    muscle_skin,
    push_out_of_bone,
    vertex_normals,
)
from hipflex.scene.layout import Box, Segment, callout_offsets, place_callout
from hipflex.scene.views import fit_camera
from hipflex.state import Camera, Snapshot

Array = NDArray[np.float64]
SPECIFIC_TENSION = 61.0e4  # N/m^2 (61 N/cm^2; Arnold et al. 2010, Ann Biomed Eng 38:269)
DRAG_KEEP = {"bone": 0.2, "muscle": 0.12}  # fraction of triangles kept while dragging
TUBE_SCALE = 0.4  # tube radius = 0.4 x the radius of a circle with the muscle's PCSA (display only)
# A muscle without a surface model stands in the "surface" style as a tube along each of its
# lines, of 0.9 x the radius of the circle with the muscle's PCSA (max isometric force over
# SPECIFIC_TENSION; a line its weight's share). 0.9 gives it about the girth a surface would
# have: in this pack the surface muscles' mean cross-section (volume over path length, at the
# scan pose) is the circle of a median 0.89 x that radius (0.52 piriformis to 1.44 pectineus).
STAND_IN_SCALE = 0.9
STAND_IN_SIDES = 16
SURFACE_OPACITY = 0.85  # a muscle surface (or stand-in tube) at rest; the selected one is opaque
DIMMED_OPACITY = 0.45  # the other muscles while one is selected
LINE_RADIUS = 0.0012  # m, thin lines of action
LINE_SIDES = 10  # facets round a line-of-action tube
SELECT_COLOUR = (1.0, 0.85, 0.1)
CONTACT_COLOUR = (0.8, 0.1, 0.8)  # bone meeting bone: apart from the selection and the lever
LEGEND_SWATCH = "    "  # a category's swatch: blank text on its colour
LEGEND_GAP = 1.0  # between a swatch and its label, in units of the font size
CONTACT_RADIUS = 0.005  # m, the marker at the deepest point of a bone-on-bone overlap
_BONE_RGB = pv.Color(BONE_COLOUR).float_rgb  # named colours resolved once, not every frame
_LINE_RGB = pv.Color(LINE_COLOUR).float_rgb
# Landmarks labelled with the muscles (keys of the pack's landmarks.json).
LANDMARK_LABELS = {
    "hip_centre_r": "Hip joint centre",
    "asis_r": "ASIS",
    "knee_centre_r": "Knee flexion axis",  # drawn where the axis passes, not at the landmark
    "pubic_symphysis": "Pubic symphysis",
}
# Landmarks on a bone's surface: their label says so when bone hides them from the camera. The
# joint centres lie inside the joint by definition and never do.
SURFACE_LANDMARKS = ("asis_r", "pubic_symphysis")
HIDDEN_SUFFIX = " (behind)"
# The colour legend along the bottom: its bar fills 0.02..0.055 of the view's height, its title
# stands just above (normalised height); presets frame the anatomy above it and labels keep above.
LEGEND_TOP = 0.065
LEGEND_TITLE_FONT = 14


@dataclass
class _SkinLevel:
    """One level of detail of a muscle surface: its polydata and what skinning needs."""

    poly: pv.PolyData
    skin: PathSkin  # follows the muscle's lines of action (hipflex.scene.deform)
    faces: NDArray[np.int64]


def _with_normals(vertices: NDArray[np.floating], faces: NDArray[np.integer]) -> pv.PolyData:
    poly = _polydata(vertices, faces)
    poly.compute_normals(inplace=True, split_vertices=False, auto_orient_normals=False)
    return poly


@dataclass
class _Line:
    muscle: str
    name: str
    bodies: list[str]
    poly: pv.PolyData
    tube: vtk.vtkTubeFilter
    actor: vtk.vtkActor
    ends: pv.PolyData
    ends_actor: vtk.vtkActor
    pcsa_radius: float


@dataclass
class _StandIn:
    """One line of action of a muscle without a surface model, drawn as a tube where surfaces are
    shown: its polyline, the tube around it and their actor."""

    muscle: str
    line: str
    poly: pv.PolyData
    tube: vtk.vtkTubeFilter
    actor: vtk.vtkActor
    radius: float


def stand_in_radius(max_isometric_force: float, weight: float = 1.0) -> float:
    """Radius (m) of the tube that stands for a muscle without a surface model (or for one of its
    lines, of ``weight``): STAND_IN_SCALE x the radius of the circle whose area is the PCSA."""
    pcsa = weight * max_isometric_force / SPECIFIC_TENSION
    return STAND_IN_SCALE * float(np.sqrt(pcsa / np.pi))


def _overwrite(array: vtk.vtkDataArray | None, values: NDArray[np.floating]) -> bool:
    """Write ``values`` into a VTK array's own memory if it holds as many tuples (False if not):
    without pyvista's per-assignment conversion, which cost a drag frame about 2 ms over its 60
    point updates."""
    if array is None or array.GetNumberOfTuples() != len(values):
        return False
    vtk_to_numpy(array)[:] = values
    array.Modified()
    return True


def _write_points(poly: pv.PolyData, points: NDArray[np.floating]) -> None:
    """Overwrite ``poly``'s points, in place where the count is the same."""
    vtk_points = poly.GetPoints()
    if vtk_points is not None and _overwrite(vtk_points.GetData(), points):
        vtk_points.Modified()
    else:
        poly.points = points
    poly.Modified()


def _actor_for(source: vtk.vtkAlgorithm | pv.PolyData) -> vtk.vtkActor:
    mapper = vtk.vtkPolyDataMapper()
    if isinstance(source, vtk.vtkAlgorithm):
        mapper.SetInputConnection(source.GetOutputPort())
    else:
        mapper.SetInputData(source)
    mapper.ScalarVisibilityOff()
    actor = vtk.vtkActor()
    actor.SetMapper(mapper)
    return actor


def _polyline_tube(sides: int) -> tuple[pv.PolyData, vtk.vtkTubeFilter]:
    """A two-point placeholder polyline and the capped tube filter around it: the lines of
    action and the stand-ins both start so and get their points at the first pose."""
    poly = pv.PolyData(np.zeros((2, 3)), lines=np.array([2, 0, 1]))
    tube = vtk.vtkTubeFilter()
    tube.SetInputData(poly)
    tube.SetNumberOfSides(sides)
    tube.CappingOn()
    return poly, tube


def _muscle_actor(source: vtk.vtkAlgorithm | pv.PolyData) -> vtk.vtkActor:
    """A muscle's surface (or stand-in tube) actor: shaded, translucent at rest, hidden until
    the first ``apply``."""
    actor = _actor_for(source)
    prop = actor.GetProperty()
    prop.SetInterpolationToPhong()
    prop.SetOpacity(SURFACE_OPACITY)
    prop.SetSpecular(0.1)
    actor.SetVisibility(False)
    return actor


def _spread(ys: list[float], step: float, lo: float, hi: float) -> list[float]:
    """Label heights near ``ys`` (display y, up) at least ``step`` apart, inside [lo, hi]."""
    order = np.argsort(ys)[::-1]  # top first
    placed = np.empty(len(ys))
    prev = np.inf
    for i in order:
        y = min(ys[i], prev - step, hi)
        placed[i] = y
        prev = y
    overflow = lo - min(placed)
    if overflow > 0:  # ran off the bottom: push the column up, then re-space from the top
        placed = placed + overflow
        prev = np.inf
        for i in order:
            placed[i] = min(placed[i], prev - step, hi)
            prev = placed[i]
    return [float(v) for v in placed]


def _matrix(t: Array) -> vtk.vtkMatrix4x4:
    m = vtk.vtkMatrix4x4()
    for i in range(4):
        for j in range(4):
            m.SetElement(i, j, float(t[i, j]))
    return m


class LiveScene:
    """Actors for every bone, muscle surface and line of action, updated by ``apply``.

    ``scale`` multiplies label offsets and line widths for high-resolution offscreen images.
    """

    def __init__(self, plotter: pv.Plotter, builder: SceneBuilder, scale: float = 1.0) -> None:
        self.plotter = plotter
        self.builder = builder
        self.ctx = builder.ctx
        self.scale = scale
        self.names: dict[int, str] = {}  # id(actor) -> "bone:<id>" / "muscle:<id>"
        self._applied: Snapshot | None = None
        self._transforms: dict[str, Array] = {}
        self._line_points: dict[str, Array] = {}
        self._values: dict[str, Array] | None = None
        self._pcsa = self._pcsa_radius()
        self.bone_actors: dict[str, vtk.vtkActor] = {}
        self.muscle_actors: dict[str, vtk.vtkActor] = {}  # surfaces
        # muscles without a surface model: a tube per line of action (see ``stand_in_radius``)
        self.surfaced = [m for m in self.ctx.muscle_ids if self.ctx.anatomy.muscles[m].mesh]
        self.stand_ins: dict[str, list[_StandIn]] = {}
        self._skins: dict[tuple[str, str], _SkinLevel] = {}  # (muscle, detail) -> skin
        self._skin_sets: dict[str, SkinSet] = {}  # detail -> every muscle's skin, posed at once
        self._skinned_pose: dict[tuple[str, str], object] = {}
        self._bone_polys: dict[tuple[str, str], pv.PolyData] = {}
        self.detail = "full"
        self.lines: dict[str, _Line] = {}
        self._overlay: list[vtk.vtkProp] = []
        self._legend: list[vtk.vtkProp] = []
        self._arm: (
            tuple[list[tuple[vtk.vtkLineSource, vtk.vtkActor]], vtk.vtkActor, vtk.vtkCaptionActor2D]
            | None
        ) = None
        self._top: vtk.vtkRenderer | None = None
        self._contact_props: tuple[vtk.vtkActor, vtk.vtkCaptionActor2D] | None = None
        self._contact_sphere = vtk.vtkSphereSource()  # replaced when the marker is first made
        self.contact_depth = 0.0  # m, bone-on-bone overlap at the applied pose (0: apart)
        self._build()

    # -- construction -------------------------------------------------------------------------
    def _pcsa_radius(self) -> dict[str, float]:
        out = {}
        for ln in self.ctx.lines:
            m = self.ctx.anatomy.muscles[ln.muscle]
            pcsa = ln.weight * m.hill.max_isometric_force / SPECIFIC_TENSION
            out[ln.name] = TUBE_SCALE * float(np.sqrt(pcsa / np.pi))
        return out

    def _add(self, actor: vtk.vtkProp, name: str | None = None) -> None:
        self.plotter.renderer.AddActor(actor)
        if name:
            self.names[id(actor)] = name

    def _build(self) -> None:
        for bone, mesh in self.builder.bones.items():
            self._bone_polys[bone, "full"] = _with_normals(mesh.vertices, mesh.faces)
            actor = _actor_for(self._bone_polys[bone, "full"])
            prop = actor.GetProperty()
            prop.SetColor(*_BONE_RGB)
            prop.SetInterpolationToPhong()
            prop.SetSpecular(0.15)
            prop.SetSpecularPower(20)
            self.bone_actors[bone] = actor
            self._add(actor, f"bone:{bone}")
        self._scan_lines = line_polylines(self.ctx, self.builder.scan)
        self._build_skins("full")
        for mid in self.surfaced:
            actor = _muscle_actor(self._skins[mid, "full"].poly)
            self.muscle_actors[mid] = actor
            self._add(actor, f"muscle:{mid}")
        for line in self.ctx.lines:
            m = self.ctx.anatomy.muscles[line.muscle]
            if m.mesh is not None:
                continue
            poly, tube = _polyline_tube(STAND_IN_SIDES)
            radius = stand_in_radius(m.hill.max_isometric_force, line.weight)
            tube.SetRadius(radius)
            actor = _muscle_actor(tube)
            self.stand_ins.setdefault(m.id, []).append(
                _StandIn(m.id, line.name, poly, tube, actor, radius))
            self._add(actor, f"muscle:{m.id}")
        for ln in self.ctx.lines:
            poly, tube = _polyline_tube(LINE_SIDES)
            actor = _actor_for(tube)
            actor.SetVisibility(False)
            ends = pv.PolyData(np.zeros((2, 3)))
            ends_actor = _actor_for(ends)
            ends_actor.GetProperty().SetRenderPointsAsSpheres(True)
            ends_actor.SetVisibility(False)
            self.lines[ln.name] = _Line(ln.muscle, ln.name, path_point_bodies(self.ctx, ln),
                                        poly, tube, actor, ends, ends_actor, self._pcsa[ln.name])  # fmt: skip
            self._add(actor, f"muscle:{ln.muscle}")
            self._add(ends_actor, f"muscle:{ln.muscle}")

    def _build_skins(self, detail: str) -> None:
        """Muscle surfaces (and, for "drag", coarser bones) at one level of detail."""
        if detail in self._skin_sets:
            return
        if detail == "drag":
            for bone, mesh in self.builder.bones.items():
                self._bone_polys[bone, "drag"] = _with_normals(
                    *decimated(mesh.vertices, mesh.faces, DRAG_KEEP["bone"])
                )
        for mid in self.surfaced:  # the others have no surface model: see ``stand_ins``
            mesh = self.ctx.pack.mesh(str(self.ctx.anatomy.muscles[mid].mesh), self.builder.level)
            v, f = (
                (mesh.vertices, mesh.faces)
                if detail == "full"
                else decimated(mesh.vertices, mesh.faces, DRAG_KEEP["muscle"])
            )
            poly = _with_normals(v, f)
            normals = np.asarray(poly.point_data["Normals"], float).copy()
            skin = muscle_skin(self.ctx, mid, np.asarray(v, float), normals, self._scan_lines,
                               self.builder.scan)  # fmt: skip
            self._skins[mid, detail] = _SkinLevel(poly, skin, np.asarray(f, np.int64))
        self._skin_sets[detail] = SkinSet.for_model(
            self.ctx, {m: self._skins[m, detail].skin for m in self.surfaced}
        )

    def prepare_drag(self) -> None:
        """Build the coarse level of detail now (the window calls this once idle after its
        first frame, so start-up does not wait for it and the first drag does not either)."""
        self._build_skins("drag")

    # -- updating -----------------------------------------------------------------------------
    def apply(self, snap: Snapshot, values: Mapping[str, Array] | None = None) -> None:
        """Bring every actor in line with ``snap``; ``values`` are the engine's per-muscle
        quantities at this pose (needed for the quantity colour modes and labels)."""
        old = self._applied
        self._values = dict(values) if values is not None else None
        if old is None or old.pose != snap.pose:
            self._pose(snap)
        visible = set(snap.visible)
        style = snap.display.muscle_style
        for mid, actor in self.muscle_actors.items():
            actor.SetVisibility(mid in visible and style == "surface")
        self._skin_visible(snap)  # only re-skins surfaces that are visible and stale
        self._stand_in(snap)
        self._style_lines(snap)
        self._colour(snap)
        for actor in self.bone_actors.values():
            actor.GetProperty().SetOpacity(snap.display.bone_opacity)
        self._select(snap)
        self._overlays(snap)
        self._applied = snap

    def _pose(self, snap: Snapshot) -> None:
        pose = ScenePose(**snap.pose.as_dict())
        self._transforms = self.builder.transforms(pose)
        for bone, actor in self.bone_actors.items():
            actor.SetUserMatrix(_matrix(self._transforms[self.ctx.pack.mesh_body(bone)]))
        self._line_points = line_polylines(self.ctx, self._transforms)
        self._contact(snap)

    def set_detail(self, detail: str) -> None:
        """ "drag": coarser bones and muscles while the user drags; "full" when they stop."""
        if detail == self.detail:
            return
        self._build_skins(detail)
        self.detail = detail
        # Order-independent transparency at rest; plain alpha blending while dragging, where OIT
        # costs about a third of each frame on the software renderer (docs/performance.md) and
        # its speckle (unsorted translucent triangles) is hidden by the motion.
        self.plotter.renderer.SetUseOIT(detail == "full")
        for bone, actor in self.bone_actors.items():
            cast(vtk.vtkPolyDataMapper, actor.GetMapper()).SetInputData(
                self._bone_polys[bone, detail]
            )
        for mid, actor in self.muscle_actors.items():
            cast(vtk.vtkPolyDataMapper, actor.GetMapper()).SetInputData(
                self._skins[mid, detail].poly
            )
        # Lines of action: real tubes at rest; while dragging the polyline itself, drawn as
        # shaded tubes by the line shader, which saves a tube filter run and a vertex upload
        # per line each frame (about 5 ms of a drag frame here, docs/performance.md).
        for ln in self.lines.values():
            self._line_input(ln)
            ln.actor.GetProperty().SetRenderLinesAsTubes(detail == "drag")
        for tubes in self.stand_ins.values():  # the same for the stand-in tubes
            for t in tubes:
                self._stand_in_input(t)
                t.actor.GetProperty().SetRenderLinesAsTubes(detail == "drag")
        if self._applied is not None:
            self._skin_visible(self._applied)
            self._stand_in(self._applied)
            self._style_lines(self._applied)

    def _skin_visible(self, snap: Snapshot) -> None:
        """Re-skin visible muscle surfaces that are stale (hidden ones wait until shown)."""
        if snap.display.muscle_style != "surface":
            return
        # at rest the surfaces are also pushed out of bone; while dragging that waits
        push = bone_distance_fns(self.ctx, self._transforms) if self.detail == "full" else None
        stale = [m for m in snap.visible if m in self.muscle_actors
                 and self._skinned_pose.get((m, self.detail)) != snap.pose]  # fmt: skip
        if not stale:
            return
        posed = self._skin_sets[self.detail].deform(self._line_points, self._transforms, stale)
        for mid in stale:
            skin = self._skins[mid, self.detail]
            pts, nrm = posed[mid]
            if push is not None:  # at rest: out of bone, and normals from the final shape
                pts = push_out_of_bone(pts, push)
                nrm = vertex_normals(pts, skin.faces)
            poly = skin.poly
            _write_points(poly, pts)
            if not _overwrite(poly.GetPointData().GetNormals(), nrm):
                poly.point_data["Normals"] = nrm
                poly.point_data.active_normals_name = "Normals"  # type: ignore[attr-defined,unused-ignore]
            poly.Modified()
            self._skinned_pose[mid, self.detail] = snap.pose

    def _stand_in(self, snap: Snapshot) -> None:
        """Show the tubes of the visible muscles without a surface model in the "surface" style,
        along their lines at this pose (hidden ones are left where they were)."""
        visible = set(snap.visible)
        surface = snap.display.muscle_style == "surface"
        pixels_per_metre = self._pixels_per_metre() if self.detail == "drag" else 0.0
        for mid, tubes in self.stand_ins.items():
            on = surface and mid in visible
            for t in tubes:
                t.actor.SetVisibility(on)
                if not on:
                    continue
                pts = self._line_points[t.line]
                if t.poly.n_points == len(pts):
                    _write_points(t.poly, pts)
                else:
                    t.poly = pv.lines_from_points(pts)
                    t.tube.SetInputData(t.poly)
                    self._stand_in_input(t)
                if self.detail == "drag":
                    t.actor.GetProperty().SetLineWidth(2 * t.radius * pixels_per_metre)

    def _stand_in_input(self, t: _StandIn) -> None:
        """A stand-in's mapper draws its tube at rest and its bare polyline, shaded as a tube by
        the line shader, while dragging (as the lines of action do)."""
        mapper = cast(vtk.vtkPolyDataMapper, t.actor.GetMapper())
        if self.detail == "drag":
            mapper.SetInputData(t.poly)
        else:
            mapper.SetInputConnection(t.tube.GetOutputPort())

    def _style_lines(self, snap: Snapshot) -> None:
        visible = set(snap.visible)
        style = snap.display.muscle_style
        show = style != "surface" or snap.display.show_lines
        pixels_per_metre = self._pixels_per_metre()
        for ln in self.lines.values():
            on = show and ln.muscle in visible
            ln.actor.SetVisibility(on)
            ln.ends_actor.SetVisibility(on and style != "tube")
            if not on:
                continue
            pts = self._line_points[ln.name]
            if ln.poly.n_points == len(pts):
                _write_points(ln.poly, pts)  # same point count: update in place
            else:
                ln.poly = pv.lines_from_points(pts)
                ln.tube.SetInputData(ln.poly)
                self._line_input(ln)
            radius = (
                ln.pcsa_radius
                if style == "tube"
                else LINE_RADIUS * (1.5 if style == "surface" else 1.0)
            )
            ln.tube.SetRadius(radius)
            if self.detail == "drag":
                ln.actor.GetProperty().SetLineWidth(2 * radius * pixels_per_metre)
            _write_points(ln.ends, pts[[0, -1]])
            ln.ends_actor.GetProperty().SetPointSize(8 * self.scale)

    def _line_input(self, ln: _Line) -> None:
        """The line's mapper draws its tube at rest and its bare polyline while dragging."""
        mapper = cast(vtk.vtkPolyDataMapper, ln.actor.GetMapper())
        if self.detail == "drag":
            mapper.SetInputData(ln.poly)
        else:
            mapper.SetInputConnection(ln.tube.GetOutputPort())

    def _pixels_per_metre(self) -> float:
        """Screen pixels per metre at the camera's focal point (line widths while dragging)."""
        cam = self.plotter.renderer.GetActiveCamera()
        height = max(self.plotter.renderer.GetSize()[1], 1)
        if cam.GetParallelProjection():
            world = 2.0 * cam.GetParallelScale()
        else:
            world = 2.0 * cam.GetDistance() * np.tan(np.radians(cam.GetViewAngle()) / 2.0)
        return float(height / max(world, 1e-9))

    def _colour(self, snap: Snapshot) -> None:
        muscles = self.ctx.muscle_ids
        identity = {m: self.ctx.anatomy.muscles[m].colour for m in muscles}
        mode = snap.display.colour_by
        colours = muscle_colours(mode if self._values is not None or mode == "identity" else "identity",
                                 muscles, identity, self._values)  # fmt: skip
        for mid, actor in self._muscle_bodies():
            actor.GetProperty().SetColor(*colours[mid])
        surface = snap.display.muscle_style == "surface"
        for ln in self.lines.values():
            rgb = _LINE_RGB if surface else colours[ln.muscle]
            ln.actor.GetProperty().SetColor(*rgb)
            ln.ends_actor.GetProperty().SetColor(*colours[ln.muscle])
        self.colours = colours

    def _select(self, snap: Snapshot) -> None:
        sel = snap.selection
        for bone, actor in self.bone_actors.items():
            on = sel == f"bone:{bone}"
            actor.GetProperty().SetColor(*(SELECT_COLOUR if on else _BONE_RGB))
            actor.GetProperty().SetAmbient(0.25 if on else 0.0)
        dim = sel is not None and sel.startswith("muscle:")
        for mid, actor in self._muscle_bodies():
            on = sel == f"muscle:{mid}"
            prop = actor.GetProperty()
            prop.SetAmbient(0.45 if on else 0.0)
            prop.SetOpacity(1.0 if on else (DIMMED_OPACITY if dim else SURFACE_OPACITY))
        for ln in self.lines.values():
            if sel == f"muscle:{ln.muscle}":
                ln.actor.GetProperty().SetColor(*SELECT_COLOUR)

    def _muscle_bodies(self) -> list[tuple[str, vtk.vtkActor]]:
        """(muscle, actor) of every muscle surface and every stand-in tube."""
        return [*self.muscle_actors.items(),
                *((m, t.actor) for m, tubes in self.stand_ins.items() for t in tubes)]  # fmt: skip

    # -- overlays: moment arm, labels, legend --------------------------------------------------
    def _clear(self, props: list[vtk.vtkProp]) -> None:
        for prop in props:
            self.plotter.renderer.RemoveViewProp(prop)
        props.clear()

    def moment_arm_geometry(self, muscle: str) -> tuple[Array, Array, Array, Array] | None:
        """For the muscle's first line: (hip centre, axis point at the line's depth, foot of the
        perpendicular, a point on the line of action) in the sagittal plane of the pelvis, or None."""
        line = next((ln for ln in self.lines.values() if ln.muscle == muscle), None)
        if line is None or not self._line_points:
            return None
        pts = self._line_points[line.name]
        bodies = line.bodies
        last_pelvis = max((i for i, b in enumerate(bodies) if b == "pelvis"), default=None)
        if last_pelvis is None or last_pelvis == len(pts) - 1:
            return None
        a = pts[last_pelvis]
        b = next((q for q in pts[last_pelvis + 1 :] if np.linalg.norm(q - a) > 1e-6), None)
        if b is None:
            return None
        c = self._transforms["femur_r"][:3, 3]
        d = b - a
        d2 = np.array([d[0], d[1], 0.0])
        if np.linalg.norm(d2) < 1e-9:
            return None
        u = d2 / np.linalg.norm(d2)
        depth = a[2]
        c_depth = np.array([c[0], c[1], depth])
        a2 = np.array([a[0], a[1], depth])
        foot = a2 + np.dot(c_depth - a2, u) * u
        return c, c_depth, foot, a2

    def _overlays(self, snap: Snapshot) -> None:
        self._clear(self._overlay)
        sel = snap.selection
        # a hidden muscle's lever would point at a line that is not drawn
        if (
            sel
            and sel.startswith("muscle:")
            and snap.display.show_moment_arm
            and sel[7:] in snap.visible
        ):
            self._moment_arm(sel[7:])
        else:
            self._hide_arm()
        segments: list[Segment] = []
        boxes: list[Box] = []
        if snap.display.labels:
            segments, boxes = self._labels(snap)
        self._place_arm_caption(snap, segments, boxes)
        self._clear(self._legend)
        spec = self.legend_spec(snap)
        if spec is not None:
            self._add_legend(spec)

    def legend_spec(self, snap: Snapshot) -> LegendSpec | None:
        """The colour legend ``snap`` shows, if any (quantity colours need the engine's values)."""
        if self._values is None:
            return None
        return legend(snap.display.colour_by, snap.task.hip_acceleration)

    def _legend_strip(self, snap: Snapshot | None) -> float:
        """The share of the view's height the colour legend takes along the bottom, its title
        included; 0 when ``snap`` shows none."""
        if snap is None or self.legend_spec(snap) is None:
            return 0.0
        h = max(self.plotter.window_size[1], 1)
        return LEGEND_TOP + 1.5 * LEGEND_TITLE_FONT * self.scale / h

    def _arm_actors(
        self,
    ) -> tuple[list[tuple[vtk.vtkLineSource, vtk.vtkActor]], vtk.vtkActor, vtk.vtkCaptionActor2D]:
        """Persistent moment-arm props (axis, perpendicular, extension, hip centre, caption):
        updated in place each pose instead of rebuilt, to keep dragging fast."""
        if self._arm is None:
            # drawn in a layer over the scene: the lever arm sits inside the femoral head
            top = self._top_layer()
            segs = []
            for r in (0.0006, 0.0015, 0.0006):
                src = vtk.vtkLineSource()
                tube = vtk.vtkTubeFilter()
                tube.SetInputConnection(src.GetOutputPort())
                tube.SetRadius(r * max(self.scale, 1.0))
                tube.SetNumberOfSides(8)
                actor = _actor_for(tube)
                actor.GetProperty().SetColor(*MOMENT_ARM_COLOUR)
                actor.GetProperty().SetLighting(False)
                top.AddActor(actor)
                segs.append((src, actor))
            sphere = vtk.vtkSphereSource()
            sphere.SetRadius(0.004)
            dot = _actor_for(sphere)
            dot.GetProperty().SetColor(*MOMENT_ARM_COLOUR)
            top.AddActor(dot)
            cap = self._caption("", np.zeros(3), (0, -40), MOMENT_ARM_COLOUR, backdrop=True)
            self._arm = (segs, dot, cap)
        return self._arm

    def _top_layer(self) -> vtk.vtkRenderer:
        """A renderer drawn over the scene with its camera, for marks that sit inside bone."""
        if self._top is None:
            top = vtk.vtkRenderer()
            top.SetLayer(1)
            top.InteractiveOff()
            top.SetActiveCamera(self.plotter.renderer.GetActiveCamera())
            rw = self.plotter.ren_win
            assert rw is not None
            rw.SetNumberOfLayers(max(2, rw.GetNumberOfLayers()))
            rw.AddRenderer(top)
            self._top = top
        return self._top

    def _contact(self, snap: Snapshot) -> None:
        """Mark where bone meets bone (the deepest point of the overlap), with its depth; the
        femur turns freely about the hip centre, so the model's bones can pass into each other
        where a real hip stops (hipflex.model.contact)."""
        p = snap.pose
        found = bone_contact(self.ctx).at(p.hip_flexion, p.hip_adduction, p.hip_rotation)
        self.contact_depth = float(found.depth[0])
        if not self.contact_depth:
            if self._contact_props is not None:
                for prop in self._contact_props:
                    prop.SetVisibility(False)
            return
        if self._contact_props is None:
            sphere = vtk.vtkSphereSource()
            sphere.SetRadius(CONTACT_RADIUS)
            sphere.SetThetaResolution(16)
            sphere.SetPhiResolution(12)
            dot = _actor_for(sphere)
            dot.GetProperty().SetColor(*CONTACT_COLOUR)
            self._top_layer().AddActor(dot)
            cap = self._caption("", np.zeros(3), (30, 30), CONTACT_COLOUR, backdrop=True)
            self._contact_sphere = sphere
            self._contact_props = (dot, cap)
        dot, cap = self._contact_props
        point = found.point[0]
        self._contact_sphere.SetCenter(*map(float, point))
        text = f"bone contact {1000 * self.contact_depth:.0f} mm"
        cap.SetCaption(text)
        cap.SetAttachmentPoint(*map(float, point))
        self._size_caption(cap, text)
        for prop in self._contact_props:
            prop.SetVisibility(True)

    def _hide_arm(self) -> None:
        if self._arm is not None:
            segs, dot, cap = self._arm
            for _, actor in segs:
                actor.SetVisibility(False)
            dot.SetVisibility(False)
            cap.SetVisibility(False)

    def _moment_arm(self, muscle: str) -> None:
        geo = self.moment_arm_geometry(muscle)
        if geo is None:
            self._hide_arm()
            return
        c, c_depth, foot, a2 = geo
        arm = None
        if self._values is not None and "moment_arm_hip_flexion" in self._values:
            j = self.ctx.muscle_ids.index(muscle)
            arm = float(np.ravel(self._values["moment_arm_hip_flexion"])[j])
        segs, dot, cap = self._arm_actors()
        for (src, actor), (p0, p1) in zip(
            segs, ((c, c_depth), (c_depth, foot), (a2, foot)), strict=True
        ):
            src.SetPoint1(*map(float, p0))
            src.SetPoint2(*map(float, p1))
            actor.SetVisibility(bool(np.linalg.norm(p1 - p0) > 1e-6))
        cast(vtk.vtkSphereSource, dot.GetMapper().GetInputAlgorithm()).SetCenter(*map(float, c))
        dot.SetVisibility(True)
        name = self.ctx.anatomy.muscles[muscle].display_name
        text = name
        if arm is not None:
            text = (
                f"{name}: moment arm {1000 * arm:+.0f} mm ({'flexor' if arm > 0 else 'extensor'})"
            )
        cap.SetCaption(text)
        cap.SetAttachmentPoint(*map(float, (c_depth + foot) / 2))
        self._size_caption(cap, text)
        cap.SetVisibility(True)

    def _place_arm_caption(self, snap: Snapshot, segments: list[Segment], boxes: list[Box]) -> None:
        """Put the lever's caption clear of the label columns' leader lines and boxes, and draw
        it over them: with every muscle labelled the leaders fan across the middle of the view,
        where the default place below the lever would have them run through its text."""
        cap = self._shown_caption()
        if cap is None:
            return
        ren = self.plotter.renderer
        ren.SetWorldPoint(*cap.GetAttachmentPoint(), 1.0)
        ren.WorldToDisplay()
        ax, ay = ren.GetDisplayPoint()[:2]
        w, h = self.plotter.window_size
        cw, ch = cap.GetWidth() * w, cap.GetHeight() * h
        offsets = callout_offsets(cw, ch, 20 * self.scale, 60 * self.scale)
        bottom = self._legend_strip(snap)
        x, y = place_callout((ax, ay), (cw, ch), offsets, segments, boxes,
                             (0.0, bottom * h, float(w), float(h)))  # fmt: skip
        cap.SetPosition(x - ax, y - ay)
        if segments:  # the leaders were just added: draw the caption after them, over any left
            ren.RemoveActor(cap)
            ren.AddActor(cap)

    def _shown_caption(self) -> vtk.vtkCaptionActor2D | None:
        """The lever's caption when it is shown (a muscle selected, its lever drawn)."""
        if self._arm is None or not self._arm[2].GetVisibility():
            return None
        return self._arm[2]

    def take_arm_callout(self) -> tuple[str, Array] | None:
        """The lever's caption text and the world point its leader goes to, hiding it from the
        3D view: stills draw it themselves, after their labels, so it can keep clear of them
        (the next ``apply`` shows it again)."""
        cap = self._shown_caption()
        if cap is None:
            return None
        cap.SetVisibility(False)
        return str(cap.GetCaption()), np.asarray(cap.GetAttachmentPoint(), float)

    def _caption(self, text: str, anchor: Array, offset: tuple[float, float],
                 colour: tuple[float, float, float] = (0.1, 0.1, 0.1),
                 backdrop: bool = False) -> vtk.vtkCaptionActor2D:  # fmt: skip
        """A label with a leader line to ``anchor``; ``backdrop`` puts it on a pale box framed in
        its colour, for marks drawn over bone, where coloured text alone is hard to read."""
        cap = vtk.vtkCaptionActor2D()
        cap.SetCaption(text)
        cap.SetAttachmentPoint(*map(float, anchor))
        cap.BorderOff()
        cap.LeaderOn()
        cap.ThreeDimensionalLeaderOff()
        cap.SetPosition(offset[0] * self.scale, offset[1] * self.scale)
        self._size_caption(cap, text)
        cap.GetTextActor().SetTextScaleModeToNone()  # one font size for every label
        tp = cap.GetCaptionTextProperty()
        tp.SetFontSize(round(13 * self.scale))
        tp.SetColor(*colour)
        tp.SetBold(False)
        tp.SetItalic(False)
        tp.SetShadow(False)
        tp.SetFontFamilyToArial()
        tp.SetJustificationToLeft()
        if backdrop:
            tp.SetBackgroundColor(1.0, 1.0, 1.0)
            tp.SetBackgroundOpacity(0.85)
            tp.SetFrame(True)
            tp.SetFrameColor(*colour)
            tp.SetFrameWidth(max(1, round(self.scale)))
        cap.GetProperty().SetColor(*colour)
        cap.GetProperty().SetLineWidth(1.0 * self.scale)
        self.plotter.renderer.AddActor(cap)
        return cap

    def _size_caption(self, cap: vtk.vtkCaptionActor2D, text: str) -> None:
        """Box sized to the text so every label gets the same font size."""
        w, h = self.plotter.window_size
        font = 13 * self.scale
        cap.SetWidth(min(0.6, max(len(text), 4) * font * 0.62 / max(w, 1)))
        cap.SetHeight(font * 1.5 / max(h, 1))

    def label_anchors(self, snap: Snapshot) -> dict[str, Array]:
        """Anchor points for labels: the middle of each visible muscle's first line, landmarks
        (named "... (behind)" where bone hides a surface landmark from the camera)."""
        out: dict[str, Array] = {}
        seen: set[str] = set()
        for ln in self.lines.values():
            if ln.muscle in snap.visible and ln.muscle not in seen:
                pts = self._line_points[ln.name]
                seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
                s = np.concatenate([[0], np.cumsum(seg)])
                target = 0.4 * s[-1]  # 40% of the way from origin to insertion
                anchor = np.array([np.interp(target, s, pts[:, i]) for i in range(3)])
                out[self.ctx.anatomy.muscles[ln.muscle].display_name] = anchor
                seen.add(ln.muscle)
        marks = self.ctx.pack.landmarks
        eye = np.asarray(self.plotter.camera.position, float)
        for key, text in LANDMARK_LABELS.items():
            if key in marks:
                p = np.asarray(marks[key], float)
                if key == "knee_centre_r":  # the tibia turns about the knee's flexion axis,
                    femur = self._transforms["femur_r"]  # behind and below the epicondyles
                    p = femur[:3, :3] @ self.ctx.skeleton.knee_axis_in_femur + femur[:3, 3]
                if key in SURFACE_LANDMARKS and self.builder.behind_bone(p, eye, self._transforms):
                    text += HIDDEN_SUFFIX
                out[text] = p
        return out

    def _labels(self, snap: Snapshot) -> tuple[list[Segment], list[Box]]:
        """Labels in two columns left and right of the anatomy, spread vertically so they never
        overlap, each joined to its structure by a leader line (drawn in display pixels).
        Returns the leader lines and the labels' boxes, for text placed after them."""
        anchors = self.label_anchors(snap)
        if not anchors:
            return [], []
        ren = self.plotter.renderer
        disp = {}
        for name, p in anchors.items():
            ren.SetWorldPoint(*map(float, p), 1.0)
            ren.WorldToDisplay()
            disp[name] = np.array(ren.GetDisplayPoint()[:2])
        w, h = self.plotter.window_size
        font = 13 * self.scale
        step = 1.45 * font
        xs = np.array([d[0] for d in disp.values()])
        centre_x = float(np.median(xs))
        # above the colour legend and its title, when there is one
        bottom = self._legend_strip(snap) * h + font
        gap = 0.3 * font
        margin = 0.01 * w
        points: list[tuple[float, float]] = []
        boxes: list[Box] = []
        for side in (-1, 1):
            names = [n for n in disp if (disp[n][0] < centre_x) == (side < 0)]
            if not names:
                continue
            ys = _spread([float(disp[n][1]) for n in names], step, bottom, h - font)
            texts = [self._label_text(name, font, side) for name in names]
            for text in texts:  # in the renderer first: measuring needs its viewport
                self.plotter.renderer.AddViewProp(text)
                self._overlay.append(text)
            bounds = [self._text_bounds(t) for t in texts]
            widest = max(b[1] - b[0] for b in bounds)  # the column must fit the view
            if side < 0:
                edge = max(margin + gap + widest, min(float(disp[n][0]) for n in names) - 4 * font)
            else:
                edge = min(w - margin - gap - widest,
                           max(float(disp[n][0]) for n in names) + 4 * font)  # fmt: skip
            for name, text, b, y in zip(names, texts, bounds, ys, strict=True):
                x0, y0 = int(edge + side * gap), int(y)
                text.SetDisplayPosition(x0, y0)
                points += [(edge, y), (float(disp[name][0]), float(disp[name][1]))]
                boxes.append((b[0] + x0, b[2] + y0, b[1] + x0, b[3] + y0))
        self._overlay.append(self._leaders(points))
        return [(points[k], points[k + 1]) for k in range(0, len(points), 2)], boxes

    @staticmethod
    def _label_text(name: str, font: float, side: int) -> vtk.vtkTextActor:
        """One column label, justified toward its leader (right on the left side)."""
        text = vtk.vtkTextActor()
        text.SetInput(name)
        tp = text.GetTextProperty()
        tp.SetFontSize(round(font))
        tp.SetColor(0.1, 0.1, 0.1)
        tp.SetFontFamilyToArial()
        tp.SetVerticalJustificationToCentered()
        # a pale backdrop: a column pushed in from the view's edge can stand over bone or muscle
        tp.SetBackgroundColor(1.0, 1.0, 1.0)
        tp.SetBackgroundOpacity(0.75)
        if side < 0:
            tp.SetJustificationToRight()
        else:
            tp.SetJustificationToLeft()
        return text

    def _text_bounds(self, text: vtk.vtkTextActor) -> list[float]:
        """(x0, x1, y0, y1) display pixels ``text`` covers relative to its position, measured
        from its font, not guessed from its length: a long name such as "Pubic symphysis
        (behind)" must not run off the view."""
        box = [0.0] * 4
        text.GetBoundingBox(self.plotter.renderer, box)
        return box

    def _leaders(self, points: list[tuple[float, float]]) -> vtk.vtkActor2D:
        """Leader lines as one 2D actor (pairs of display points)."""
        pts = vtk.vtkPoints()
        cells = vtk.vtkCellArray()
        for k in range(0, len(points), 2):
            a = pts.InsertNextPoint(points[k][0], points[k][1], 0.0)
            b = pts.InsertNextPoint(points[k + 1][0], points[k + 1][1], 0.0)
            cells.InsertNextCell(2)
            cells.InsertCellPoint(a)
            cells.InsertCellPoint(b)
        poly = vtk.vtkPolyData()
        poly.SetPoints(pts)
        poly.SetLines(cells)
        coord = vtk.vtkCoordinate()
        coord.SetCoordinateSystemToDisplay()
        mapper = vtk.vtkPolyDataMapper2D()
        mapper.SetInputData(poly)
        mapper.SetTransformCoordinate(coord)
        actor = vtk.vtkActor2D()
        actor.SetMapper(mapper)
        actor.GetProperty().SetColor(0.25, 0.25, 0.25)
        actor.GetProperty().SetLineWidth(max(1.0, self.scale))
        self.plotter.renderer.AddViewProp(actor)
        return actor

    def _add_legend(self, spec: LegendSpec) -> None:
        lut = vtk.vtkLookupTable()
        lut.SetNumberOfTableValues(len(spec.stops))
        for i, rgb in enumerate(spec.stops):
            lut.SetTableValue(i, *rgb, 1.0)
        lut.SetRange(0.0, 1.0)
        lut.Build()
        bar = vtk.vtkScalarBarActor()
        bar.SetLookupTable(lut)
        title = vtk.vtkTextActor()  # above the bar (the bar's own title overlaps it)
        title.SetInput(spec.title)
        title.GetTextProperty().SetFontSize(int(LEGEND_TITLE_FONT * self.scale))
        title.GetTextProperty().SetColor(0.1, 0.1, 0.1)
        title.GetTextProperty().SetJustificationToCentered()
        title.GetPositionCoordinate().SetCoordinateSystemToNormalizedViewport()
        title.SetPosition(0.5, LEGEND_TOP)
        self.plotter.renderer.AddViewProp(title)
        self._legend.append(title)
        bar.SetNumberOfLabels(0)
        bar.SetOrientationToHorizontal()
        bar.SetPosition(0.3, 0.02)
        bar.SetWidth(0.4)
        bar.SetHeight(0.07)
        bar.SetBarRatio(0.5)
        for tp in (bar.GetTitleTextProperty(), bar.GetLabelTextProperty()):
            tp.SetColor(0.1, 0.1, 0.1)
            tp.SetShadow(False)
            tp.SetBold(False)
            tp.SetItalic(False)
        bar.SetUnconstrainedFontSize(True)
        bar.GetTitleTextProperty().SetFontSize(int(14 * self.scale))
        self.plotter.renderer.AddViewProp(bar)
        self._legend.append(bar)
        for pos, text in spec.ticks:
            t = vtk.vtkTextActor()
            t.SetInput(text)
            t.GetTextProperty().SetFontSize(int(12 * self.scale))
            t.GetTextProperty().SetColor(0.1, 0.1, 0.1)
            t.GetTextProperty().SetJustificationToCentered()
            t.GetPositionCoordinate().SetCoordinateSystemToNormalizedViewport()
            t.SetPosition(0.3 + 0.4 * pos, 0.005)
            self.plotter.renderer.AddViewProp(t)
            self._legend.append(t)
        size = int(12 * self.scale)
        first = None
        for k, (text, rgb) in enumerate(spec.categories):
            # a coloured swatch, then dark text: readable on white
            swatch = vtk.vtkTextActor()
            swatch.SetInput(LEGEND_SWATCH)
            swatch.GetTextProperty().SetFontSize(size)
            swatch.GetTextProperty().SetBackgroundColor(*rgb)
            swatch.GetTextProperty().SetBackgroundOpacity(1.0)
            row = swatch.GetPositionCoordinate()  # rows a line and a half apart, in pixels
            if first is None:
                row.SetCoordinateSystemToNormalizedViewport()
                row.SetValue(0.745, 0.07)
                first = row
            else:
                row.SetReferenceCoordinate(first)
                row.SetCoordinateSystemToDisplay()
                row.SetValue(0.0, -1.5 * size * k)
            self.plotter.renderer.AddViewProp(swatch)  # in the renderer first: measuring needs it
            bounds = self._text_bounds(swatch)
            label = vtk.vtkTextActor()
            label.SetInput(text)
            label.GetTextProperty().SetFontSize(size)
            label.GetTextProperty().SetColor(0.15, 0.15, 0.15)
            at = label.GetPositionCoordinate()  # pixels after the swatch, at any window size
            at.SetReferenceCoordinate(swatch.GetPositionCoordinate())
            at.SetCoordinateSystemToDisplay()
            at.SetValue(bounds[1] - bounds[0] + LEGEND_GAP * size, 0.0)
            self.plotter.renderer.AddViewProp(label)
            self._legend += [swatch, label]

    # -- camera and picking -------------------------------------------------------------------
    def set_camera(self, camera: Camera) -> None:
        """A stored camera if it has one, else the named preset framed on the hip."""
        cam = self.plotter.camera
        if camera.position is not None and camera.focal_point is not None:
            cam.position = camera.position
            cam.focal_point = camera.focal_point
            cam.up = camera.up or (0.0, 1.0, 0.0)
            self.plotter.reset_camera_clipping_range()
            return
        self.frame(camera.view or "oblique")
        if camera.zoom != 1.0:
            cam.zoom(camera.zoom)

    def frame(self, view: str) -> None:
        """Camera preset ``view`` framing what :meth:`framed_points` holds."""
        self.fit(self.framed_points(), view)

    def framed_points(self) -> Array:
        """What a preset keeps in the picture: the lumbar spine, pelvis, femur, patella and the
        top of the shank, and the muscles shown, as drawn now (surfaces and lines)."""
        parts = [self.builder.frame_points(self._transforms)]
        snap = self._applied
        if snap is None:
            return parts[0]
        surface = snap.display.muscle_style == "surface"
        shown = set(snap.visible)
        if surface:
            parts += [vtk_to_numpy(self._skins[m, self.detail].poly.GetPoints().GetData())[::4]
                      for m in snap.visible if m in self.muscle_actors]  # fmt: skip
            parts += [self._line_points[t.line] for m, tubes in self.stand_ins.items()
                      if m in shown for t in tubes]  # fmt: skip
        if not surface or snap.display.show_lines:
            parts += [self._line_points[ln.name] for ln in self.ctx.lines if ln.muscle in shown]
        return np.concatenate(parts)

    def fit(self, points: Array, view: str) -> None:
        """Camera preset ``view`` with every one of ``points`` in the picture, as large as fits
        above the colour legend when one is shown."""
        w, h = self.plotter.renderer.GetSize()
        cam = self.plotter.camera
        cam.focal_point, cam.position, cam.up = fit_camera(
            points,
            view,
            aspect=w / h if w > 0 and h > 0 else 1.0,
            view_angle=cam.view_angle,
            bottom=min(self._legend_strip(self._applied), 0.3),
        )
        self.plotter.reset_camera_clipping_range()

    def camera_state(self, view: str | None = None) -> Camera:
        cam = self.plotter.camera
        return Camera.model_validate(
            {"view": view, "position": cam.position, "focal_point": cam.focal_point, "up": cam.up}
        )

    def pick(self, x: int, y: int) -> str | None:
        """The structure under display pixel (x, y) (VTK coordinates: origin bottom left)."""
        picker = vtk.vtkPropPicker()
        if not picker.Pick(x, y, 0, self.plotter.renderer):
            return None
        actor = picker.GetActor()
        return self.names.get(id(actor)) if actor is not None else None

    def line_points(self, line_name: str) -> Array:
        return self._line_points[line_name]
