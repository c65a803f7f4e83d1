"""Derive muscle attachment and via points, and wrap surfaces, from a built asset pack.

Run after ``hipflex assets build``; rewrites the generated ``[[line]]`` section at the end of each
anatomy_data/muscles/*.toml and all of anatomy_data/wraps.toml. Coordinates are a handful of
points per muscle in body frames (metres), not mesh data. A full run first rewrites
anatomy_data/patellofemoral.toml (tools/derive_patella.py, its rule there): the paths are posed
with the patella where it puts it, and rectus femoris inserts on the patella's own body.

Rules (so that a reviewer can reproduce them):
- A muscle touches a bone where its surface lies within 3 mm of that bone's surface (signed
  distance grids of the pack). The origin is the centroid of the contact patch on the pelvis in the
  muscle's proximal half; the insertion the centroid of the contact patch on the distal body in the
  distal half. Muscles whose tendon is not part of the surface model (no distal contact) use the
  centroid of their distal-most 2% of vertices; so do muscles that only glide over the femur
  where they touch it (GLIDES: gluteus maximus over the greater trochanter). Either centroid is
  then snapped to the nearest
  vertex of the named bone, so every attachment lies on its bone.
- Tensor fasciae latae acts through the iliotibial tract, which its surface model leaves out: it
  inserts on Gerdy's tubercle (most anterolateral tibia vertex within 4 cm below the knee centre)
  with a femur via point 5 mm lateral of the lateral epicondyle (the tract is anchored to the
  distal femur there by fibrous strands and does not roll over the epicondyle: Fairclough et al.
  2006, J Anat 208:309-316; the epicondyle lies on the knee axis, so TFL has no knee lever).
- Iliacus and psoas insert on the lesser trochanter: the most posteromedial femur vertex 3-9 cm
  below the hip centre (their common tendon is not part of the surface models). Piriformis,
  whose surface stops above the hip joint, inserts on the upper border of the greater
  trochanter: the highest femur vertex more than 3 cm lateral of the hip centre.
- Gracilis, semitendinosus and sartorius insert at the pes anserinus, whose tendons the
  surface models leave out (PES_ANSERINUS, with its sources: Kenny et al. 2022, de Oliveira et
  al. 2006, Pagnani et al. 1993, Dziedzic et al. 2014, Zielinska et al. 2024): on the tibia's
  anteromedial surface 46, 57 and 57 mm below the medial joint line (the median height of the
  medial plateau, PLATEAU_FACING); gracilis and semitendinosus 27 mm medial of the anterior
  border (the cross-section's most anterior point), sartorius in front of them, 12 mm from it.
  Each reaches it round the medial tibial condyle: a tibial via point on the back of the
  condyle (PES_CORNER: 10 mm below the joint line; gracilis and sartorius at its posteromedial
  corner, semitendinosus at its back), then relief via points wherever a straight stretch
  along the tibia would enter the bone (_pes_anserinus). Until session 23 sartorius kept the
  contact rule, which put its insertion at the joint line.
- Semimembranosus inserts in the groove on the back of the medial tibial condyle, by the same
  corner rule (SEMIMEMBRANOSUS_GROOVE: 10 mm below the joint line, posteromedial corner).
- Adductor longus inserts on the medial lip of the linea aspera (LINEA_ASPERA_NEAREST, with the
  reason: its surface lies 3.6 mm off the femur, so the contact rule gave its distal end): at
  the height where its surface comes nearest the femur, the femur vertex there farthest toward
  posteromedial.
- Psoas gets one line from each of L1, L3 and L5 (contact with that vertebra, then slid forward
  along it until the line of action clears every other lumbar vertebra by PSOAS_MARGIN at
  every hip flexion angle from -20 to 130 deg, _clear_psoas; the contact centroid alone put
  the L3 origin under L3's transverse process, its line through L4's, and the L1 line touched
  L2, 0.8 mm into it at 106 deg); gluteus maximus an
  upper and a lower line (its pelvic contact split at the median height); gluteus medius an
  anterior, a middle and a posterior line (its pelvic contact in thirds front to back, weighted
  as Rajagopal's parts): the anterior and middle lines insert on the lateral facet of the greater
  trochanter (the centroid of trochanter vertices whose normal points laterally), the posterior
  line on the superoposterior facet at the trochanter's apex (its highest point, as piriformis).
- Sartorius, which crosses the knee on its medial side, gets one via point on the femur: the
  muscle's centreline (centroids of 12 slices along its principal axis) 3 cm above the knee centre.
  Everything else about the path is left to the wrap surfaces. Gracilis has none (since session
  28, as the hamstrings since session 12; KNEE_VIA has the reason): its fibres run straight down
  from the pubis and its tendon passes behind the medial femoral condyle (Gray's Anatomy, 1918),
  which the medial condyle cylinder stands for.
- Every origin and insertion is then moved out of its bone along the distance grid's gradient to
  3 mm clearance (ATTACH_CLEARANCE): the line of action runs through the tendon's centre, not
  its bony footprint, so a line approaching its attachment obliquely does not graze the bone.
- Wrap surfaces (which line uses which: WRAPS): pelvic brim cylinder (12 mm, tangent to the
  hip-bone point nearest the iliacus just above the hip centre); femoral head cylinder (head
  radius + 4 mm capsule, on the pelvis about the hip's medio-lateral axis through the hip
  centre); femoral neck cylinder (on the femur: the least-squares cylinder of the neck's
  underside between the head-neck junction and the lesser trochanter, + 4 mm capsule as the
  head, counted beyond the head centre along its axis; _femoral_neck has the rule); femoral
  neck sling (obturator externus: a cylinder about that fitted axis through the head centre,
  the femoral head sphere's radius, passed below and behind; _neck_sling has the rule);
  posterior hip cylinder (about the hip's medio-lateral axis, radius to the ischial
  tuberosity, capped at 80% of the nearest gluteus maximus origin's and of the nearest gluteus
  maximus femoral insertion's distance from the axis, so that both lines start and end outside
  it and the wrap can engage); greater trochanter sphere (gluteus medius's anterior and middle
  lines, gluteus minimus, and tensor fasciae latae before its shaft cylinder: centred medial of
  the middle line's lateral-facet insertion, the smallest whole-millimetre radius that holds
  every trochanter vertex above the insertion); greater trochanter's posterior
  roller (lower gluteus maximus, after the posterior hip cylinder: a cylinder about the femur's
  medio-lateral axis tangent, from the bone side and GT_ROLLER_GAP clear, to that line's
  sagittal stretch from the hip cylinder to its insertion, level with the femur point lateral of
  the head centre that stands out farthest behind that stretch; radius the largest whole
  millimetre with which it stays clear of the posterior hip cylinder; counted only lateral of
  the head centre); quadriceps bed (rectus femoris: 15 cm cylinder about the medio-lateral axis at
  mid-thigh whose anterior surface lies QUAD_BED = 8 mm, the vastus intermedius, in front of the
  most anterior shaft point there); femoral shaft cylinder (tensor fasciae latae: about the
  shaft's own axis, the principal direction of its slice centroids from 25% to 80% of the way
  to the knee through their mean, radius the band's largest); mid-thigh vasti sphere
  (sartorius, after the anterior head sphere: on that shaft axis at the level where
  sartorius's straight line passes nearest it with the hip flexed 90 deg and turned 30 deg
  inward, SARTORIUS_POSE; radius the shaft's largest within 1 cm of that level on sartorius's
  side, from the axis toward its line at the neutral pose, + QUAD_BED, the vasti it lies on);
  greater trochanter's front (sartorius, between the head sphere and the vasti sphere: a sphere
  centred at SARTORIUS_TROCHANTER in the trochanter's base, 1 mm clear of the head sphere,
  passed on the anterolateral side SARTORIUS_TROCHANTER_SIDE);
  distal femur cylinders about the knee axis: anterior (radius
  to the anterior trochlea), posterior (radius to the back of the condyles, measured straight
  back), medial (gracilis: farthest distance of the medial condyle's posterior half from the
  knee axis + 3 mm) and posteromedial (semimembranosus: that distance); femoral head spheres (head radius + 4 mm capsule, centred on the hip
  centre), passed behind by the hamstrings' proximal tendons, piriformis and gluteus medius's
  posterior line and in front by sartorius, so that no line cuts through the head at the ends
  of the flexion range or, for gluteus medius, with the thigh turned outward; quadratus femoris
  bed (the hamstrings, between the head sphere and the posterior condyle cylinder: a sphere
  fitted QF_BED = 5 mm off the back of the proximal femur below the neck, the vertices from
  15 mm below the lesser trochanter's apex to 30 mm below the hip centre, lateral of 5 mm
  medial of the apex, facing within 45 deg of straight back; radius QF_RADIUS = 36 mm, the
  centre by least squares with the bed QF_HEAD_GAP = 1 mm clear of the head sphere;
  _quadratus_bed has the rule, QF_BED and QF_RADIUS their sources).

Usage: with no options everything is regenerated (wraps.toml keeps its entries' order).
``--only MUSCLE,...`` regenerates those muscles' lines, ``--wraps ID,...`` those wrap entries
(keeping the others), and ``--wrap-lists`` only each line's list of wraps from WRAPS (psoas's
origins depend on the brim, femoral head and neck wraps: ``--only psoas`` derives those too,
without writing them). The committed data is a full run on pack pipeline 1.3 (since the
regeneration after session 21; tests/test_derive_paths.py checks that a full run reproduces
it and is a fixed point). Before that it was derived from pipeline 1.2, whose muscle meshes were registered to the bones up to
5 mm differently, and additions were made selectively:
``--wraps femoral_head_posterior_r,femoral_head_anterior_r`` then ``--wrap-lists``; in session 10, ``--wraps femoral_head_r``; in session 11, ``--wraps
greater_trochanter_top_r,femoral_head_posterior_r`` then ``--wrap-lists`` (and the unused
greater trochanter cylinder along the shaft was deleted from wraps.toml by hand); in session
13, ``--wraps greater_trochanter_top_r`` then ``--wrap-lists`` (gluteus minimus); for the
femoral neck, ``--wraps femoral_neck_r`` then ``--wrap-lists``; in session 14, ``--wraps
greater_trochanter_posterior_r`` then ``--wrap-lists`` (lower gluteus maximus); in session 16,
``--wraps quadratus_femoris_bed_r`` then ``--wrap-lists`` (the hamstrings), ``--wraps
vasti_mid_thigh_r`` then ``--wrap-lists`` (sartorius), and ``--wraps greater_trochanter_top_r``
(its note only: its centre and radius came out unchanged) then ``--wrap-lists`` (tensor fasciae
latae over the greater trochanter sphere before its shaft cylinder); then ``--wraps
quadratus_femoris_bed_r`` again (QF_RADIUS, the centre fitted clear of the head sphere); then
``--wrap-lists`` (tensor fasciae latae in front of the femoral head, between its two). Since
the regeneration, additions are made the same way and a full run still reproduces the data: in
session 35, ``--only obturator_externus --wraps femoral_neck_sling_r`` (obturator externus: its
line and its surface, nothing else).
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import trimesh
from scipy import ndimage
from scipy.spatial import cKDTree
from trimesh.intersections import mesh_plane

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))

from hipflex.anatomy import load_anatomy
from hipflex.assets.pack import AssetPack
from hipflex.config import data_dir
from hipflex.model.skeleton import BODIES

ATTACH_CLEARANCE = 0.003  # line of action through the tendon's centre, not its bony footprint
QUAD_BED = 0.008  # vastus intermedius thickness in front of the femoral shaft (also the vasti
# under sartorius, on the shaft's anteromedial side)
# The pes anserinus, where sartorius, gracilis and semitendinosus insert on the proximal
# anteromedial tibia, medial and distal of the tibial tuberosity (Pagnani et al. 1993, Am J
# Sports Med 21:565-571). Their tendons are not segmented (the surfaces end 3-10 cm above the
# tibia), so the insertions are found on the tibia: per muscle, the point of the tibia's
# cross-section (below, behind_crest) that lies `below` the medial joint line and, on the
# medial side, `behind_crest` from the anterior border (the section's most anterior point),
# lifted ATTACH_CLEARANCE off the bone. Kenny J, Hermosilla S, Cancela N, Arruti A, Del Castillo
# J (2022), Artroscopia (Buenos Aires), published 2022-06-24,
# revistaartroscopia.com.ar/index.php/revista/article/view/234 (24 formalin-fixed adult limbs):
# gracilis 46 mm distal of the joint line and 27 mm medial of the anterior tibial border,
# semitendinosus 57 mm and 27 mm; de Oliveira VM et al. (2006), Acta Ortop Bras 14(1):7-10,
# doi:10.1590/S1413-78522006000100001 (30 knees): gracilis 46 mm, semitendinosus 74 mm below
# the joint surface (the rule takes Kenny's 57, the study that gives both distances).
# Sartorius: no study found measures its insertion, but two place it against the others. Its
# tendon's inferior tract inserts "in the same place as" semitendinosus and gracilis (Dziedzic
# D, Bogacka U, Ciszek B (2014), Folia Morphol 73(3):359-362, 10 muscles), and normally all
# three insert medial of the tibial tuberosity with gracilis and semitendinosus superior and
# medial of sartorius (Zielinska N et al. (2024), Folia Morphol 83(1):239-243,
# doi:10.5603/FM.a2023.0013; Gray's Anatomy: semitendinosus "lies behind the tendon of the
# sartorius"). So sartorius takes semitendinosus's height and lies in front of it by the
# distance Rajagopal 2016's tibia puts between the two insertions (sart_r-P5 to semiten_r-P3,
# 14.8 mm across the bone's axis; sartorius 3.7 mm lower there): 27 - 14.8, 12 mm from the
# anterior border. That distance is taken from the reference model, not measured. Until
# session 23 sartorius kept the contact rule: its surface model ends above the knee, and its
# insertion lay on the joint line, on the medial side of the plateau.
PES_ANSERINUS = {"gracilis": (0.046, 0.027), "semitendinosus": (0.057, 0.027),
                 "sartorius": (0.057, 0.012)}  # fmt: skip
# The medial joint line: the median height of the medial plateau, the tibia vertices facing up
# (normal within 45 deg of straight up) from 1 cm medial of the knee centre, 0-6 cm below it.
PLATEAU_FACING = np.cos(np.radians(45.0))
# The tendons reach the pes anserinus round the medial tibial condyle (Gray's: semitendinosus
# "curves around the medial condyle of the tibia and passes over the tibial collateral
# ligament"): a straight line from the femur to the pes anserinus cut 14-15 mm into it. Each
# crosses the knee to a tibial via point on the back of the medial condyle, PES_CORNER (below,
# angle): `below` the joint line (just below the plateau's rim), the cross-section's point
# farthest in the direction `angle` from straight back toward medial; from there along the
# bone (_pes_anserinus's relief points, where a straight stretch would enter it) to the
# insertion. Gracilis at the condyle's posteromedial corner (45 deg), semitendinosus, the
# posterior of the two at the knee, at its back (0 deg, 10 mm medial of the knee centre on this
# tibia). The levels and angles are this model's choice, not measured: semitendinosus at the
# corner too (45 deg) shifted its line medially enough that with the hip deeply flexed, abducted
# and turned outward its hip adduction moment arm stepped by 7.2 mm a degree over the
# quadratus femoris bed (tests/test_model.py, the explorer's corner), and at 15-30 deg the
# bed touched its sagittal path; 0-10 deg, 5-15 mm below the joint line, pass every test.
# Gracilis at 30 deg turned its knee moment arm negative at 140 deg of knee flexion.
# Sartorius also passes behind the medial femoral condyle (Gray's), over gracilis's tendon
# (sartorius in the medial knee's first layer, gracilis and semitendinosus between the first
# and second: Warren LF, Marshall JL (1979), J Bone Joint Surg Am 61:56-62), so it takes
# gracilis's corner; the two lines share that via point. Tried and not taken: 60 deg
# (in front of gracilis) lands on the condyle's most medial point, level with the knee centre,
# and leaves 3 mm of knee lever at extension (OpenSim 11); 30 and 15 deg, behind gracilis,
# where the anatomy does not put it. RMS of the knee lever against OpenSim over 0-120 deg:
# 13 mm at 45 deg, 14 at 60, 17 with the contact-rule insertion.
PES_CORNER = {"gracilis": (0.010, np.radians(45.0)), "semitendinosus": (0.010, 0.0),
              "sartorius": (0.010, np.radians(45.0))}  # fmt: skip
# Semimembranosus inserts in the horizontal groove on the back of the medial tibial condyle,
# below the articular margin (Gray's Anatomy): the tendon is not segmented, so the insertion is
# found on the tibia, by PES_CORNER's rule at the posteromedial corner 10 mm below the joint
# line. The muscle's distal end, the rule before pipeline 1.6, lay level with the joint line,
# where the line from behind the medial femoral condyle passed 3-6 mm through the condyle's
# underside once the pack closed the femur's articular surface.
SEMIMEMBRANOSUS_GROOVE = (0.010, np.radians(45.0))
# Adductor longus inserts by an aponeurosis on the linea aspera, in the middle third of the femur,
# between vastus medialis (from the medial lip) and adductor magnus (Gray's Anatomy; Moore,
# Clinically Oriented Anatomy). Its aponeurosis is not segmented, and its surface only lies
# against the medial side of the shaft: within 3 mm of it on pack pipeline 1.2 (the committed
# point was a contact-patch centroid there, on the shaft's medial face), 3.6 mm off it from 1.3
# on, where the no-contact rule took the muscle's distal end, 27 mm lower. Without a
# threshold: the height where the surface comes nearest the femur (the centroid of its
# LINEA_ASPERA_NEAREST distal-half vertices nearest the bone, the smallest patch the contact
# rule accepts), and there the medial lip of the linea aspera, the femur's posteromedial
# border: the vertex within LINEA_ASPERA_BAND of that height farthest toward posteromedial
# (45 deg between back and medial) from the band's centroid. The ridge's crest, 8 mm further
# lateral, put the line from the pubis through the back of the shaft when the hip turned
# inward (154 of 3000 random explorer poses more than 2 mm inside the femur, up to 5.9 mm; at
# the medial lip 0 and 1 in two such samples, up to 2.0 mm).
LINEA_ASPERA_NEAREST = 20
LINEA_ASPERA_BAND = 0.002
# Psoas's lines of action leave the lumbar spine in front of the vertebrae below their origins:
# each origin is slid forward along its vertebra, PSOAS_STEP at a time and at most PSOAS_SLIDE,
# until its line clears every other lumbar vertebra by PSOAS_MARGIN over HIP_RANGE
# (_clear_psoas). The margin is the attachment's own clearance: the line runs through the
# muscle's centre, which lies at least as far off the vertebrae it passes as off the one it
# arises from.
PSOAS_MARGIN = ATTACH_CLEARANCE
PSOAS_STEP = 0.001
PSOAS_SLIDE = 0.03
HIP_RANGE = (-20.0, 130.0)  # hip flexion, degrees: the range the model is tested over
LUMBAR = ("l1", "l2", "l3", "l4", "l5")
MARK = (
    "# --- path: generated by tools/derive_paths.py from the built asset pack; do not hand-edit ---"
)
DISTAL = {
    "rectus_femoris": ("patella_r", "patella_r"),
    "sartorius": ("tibia_r", "tibia_r"),
    "gracilis": ("tibia_r", "tibia_r"),
    "semitendinosus": ("tibia_r", "tibia_r"),
    "semimembranosus": ("tibia_r", "tibia_r"),
    "biceps_femoris_long_head": ("tibia_r", "fibula_r"),
    "tensor_fasciae_latae": ("tibia_r", "tibia_r"),
}
# Muscles that touch the femur where they glide rather than insert: gluteus maximus passes over
# the greater trochanter on the subgluteus maximus bursa (Pfirrmann et al. 2001, Radiology
# 221:469-477) and inserts lower, on the gluteal tuberosity and the iliotibial tract. Their
# insertion is the distal-end rule, never the contact patch.
GLIDES = ("gluteus_maximus",)
# Gluteus medius as Rajagopal 2016's three parts (glmed1-3, max isometric force in N), front to
# back. The anterior and middle fibres insert on the lateral facet of the greater trochanter, the
# posterior fibres on the superoposterior facet at its apex (Gottschalk et al. 1989, J Anat
# 166:179-189; Robertson et al. 2008, Arthroscopy 24:130-136; Tsutsumi et al. 2019, J Bone Joint
# Surg Am 101:177-184). The tendons are not segmented, so the facets are found on the femur.
GLMED_PARTS = (("anterior", 1093.47), ("middle", 765.09), ("posterior", 871.20))
# The hamstrings have no femur via point: one fixed on the femur 3 cm above the knee centre is
# passed by their tibial insertion as the knee bends past about 120 deg, which turned their knee
# moment arm negative (semitendinosus from 124 deg, biceps femoris -33 mm at 140 deg). The
# condyle cylinder alone keeps them behind the knee, and their knee moment arms then follow
# Rajagopal 2016's shape (docs/status.md).
# Gracilis has none either (session 28). Gray's Anatomy (20th US edition, 1918, the public
# domain text; references.toml cites the 42nd): its fibres "run vertically downward" from the
# pubis and end in a rounded tendon which "passes behind the medial condyle of the femur,
# curves around the medial condyle of the tibia" to the pes anserinus; nothing holds it
# to the femur above the condyle, whose back the medial condyle cylinder stands for
# (distal_femur_medial_r), and the tibial condyle is PES_CORNER's via point. Its femur via
# point (the centreline's lowest slice centroid: its surface ends 28 mm above the knee centre,
# so the point lay 51 mm above the knee axis and 51 mm medial of it) was passed by that tibial
# via point (32 mm medial) as the knee bent: at 140 deg the two lay 8.6 mm apart in the
# sagittal plane and 18.5 mm apart mediolaterally, so the stretch across the knee pulled
# mostly sideways and the knee lever fell from 37.5 mm at 120 deg to 10.5 mm. Without it the
# line runs from the pubis over the condyle cylinder to the tibial corner.
KNEE_VIA = ("sartorius",)
WRAPS = {
    "gluteus_maximus": ["hip_posterior_r"],  # see _wraps
    "iliacus": ["pelvic_brim_r", "femoral_head_r", "femoral_neck_r"],
    "psoas": ["pelvic_brim_r", "femoral_head_r", "femoral_neck_r"],
    "rectus_femoris": ["quadriceps_bed_r", "distal_femur_anterior_r"],
    "gracilis": ["distal_femur_medial_r"],
    # with the hip flexed and turned inward its line cut the front of the femoral shaft: it lies
    # on the vasti there (session 16)
    # and with the hip extended, abducted and turned inward it cut the front of the greater
    # trochanter and the base of the neck: it passes in front of them between the two (session 29)
    "sartorius": ["femoral_head_anterior_r", "greater_trochanter_anterior_r",
                  "vasti_mid_thigh_r"],
    # the iliotibial tract passes over the greater trochanter (on its bursa) before the shaft:
    # with the hip extended and turned inward its line cut the trochanter's lateral face
    # (session 16); between the two, in front of the femoral head: in hyperextension with
    # adduction its bridge from the trochanter to the shaft cut the front of the head
    # (session 19's trial, adopted in session 20 once the three-surface length matched its drawn path)
    "tensor_fasciae_latae": ["greater_trochanter_top_r", "femoral_head_anterior_r",
                             "femoral_shaft_lateral_r"],
    "piriformis": ["femoral_head_posterior_r"],
    # its straight line to the anterior facet cut the top of the greater trochanter by up to 4 mm
    # with the hip adducted or extended (140 of 3000 explorer poses; 1.2 mm at -20 deg in the
    # sagittal plane), so it passes over the same sphere as gluteus medius (session 13)
    "gluteus_minimus": ["greater_trochanter_top_r"],
    # per line, where the lines of one muscle differ (a line's name before its muscle's id)
    "gluteus_medius_anterior": ["greater_trochanter_top_r"],
    "gluteus_medius_middle": ["greater_trochanter_top_r"],
    # with the hip flexed past 120 deg, adducted and turned outward its line from the head sphere
    # to the superoposterior facet cut the top of the trochanter and the neck (8 of 3000 explorer
    # poses, up to 7.4 mm; 1.0 mm clear at 130 deg in the sagittal plane), so it passes over the
    # sphere the other two parts use (session 24)
    "gluteus_medius_posterior": ["femoral_head_posterior_r", "greater_trochanter_top_r"],
    # with the hip abducted and turned outward its last stretch cut the back of the greater
    # trochanter and the intertrochanteric crest (81 of 3000 explorer poses, up to 8.9 mm), so it
    # passes over the trochanter's posterior roller after the posterior hip cylinder
    "gluteus_maximus_lower": ["hip_posterior_r", "greater_trochanter_posterior_r"],
    # with the hip deeply flexed, abducted and turned outward their line from the femoral head
    # to the condyles cut the back of the proximal femur (biceps femoris 48, semitendinosus 9 of
    # 3000 explorer poses, up to 12.0 mm), so they pass behind the quadratus femoris bed between
    # the two (session 16); semimembranosus, more medial, shares their surfaces
    "semitendinosus": ["femoral_head_posterior_r", "quadratus_femoris_bed_r",
                       "distal_femur_posterior_r"],
    "semimembranosus": ["femoral_head_posterior_r", "quadratus_femoris_bed_r",
                        "distal_femur_posteromedial_r"],
    "biceps_femoris_long_head": ["femoral_head_posterior_r", "quadratus_femoris_bed_r",
                                 "distal_femur_posterior_r"],
    # the deep rotators pass behind the femoral head (the posterior capsule) as piriformis does:
    # straight, obturator internus's stretch from the lesser sciatic notch cut the head by up
    # to 4.9 mm at 130 deg of flexion and in 20% of the off-plane test's poses (up to 12.9 mm);
    # quadratus femoris's, with the hip deeply flexed and adducted, in 4.4% (up to 4.9 mm)
    "quadratus_femoris": ["femoral_head_posterior_r"],
    "obturator_internus": ["femoral_head_posterior_r"],
    # its tendon slings under the femoral neck and winds up behind it to the trochanteric fossa:
    # straight it cut the head and neck at every sagittal angle (ROTATORS, below)
    "obturator_externus": ["femoral_neck_sling_r"],
}


# The deep external rotators (quadratus femoris, obturator externus, obturator internus with the
# gemelli) have no surface models in the mesh sources (ROTATORS: their files have no ``mesh``),
# so each attachment is a landmark found on the bones (_deep_rotators), lifted ATTACH_CLEARANCE
# off them. After Gray's Anatomy (20th US edition, 1918, the public domain text; paraphrased,
# not quoted):
# - quadratus femoris arises from the upper part of the external border of the ischial
#   tuberosity and is inserted into the quadrate tubercle of the intertrochanteric crest and
#   the line below it;
# - obturator externus arises from the bone round the medial side of the obturator foramen and
#   the medial two-thirds of the outer surface of the obturator membrane; its tendon runs
#   across the back of the femoral neck (below it, then behind it) to the trochanteric fossa;
# - obturator internus arises from the inner surface of the obturator membrane and the bone
#   round it, leaves the pelvis through the lesser sciatic foramen turning at a right angle over
#   the grooved surface between the ischial spine and tuberosity (the lesser sciatic notch, its
#   pulley), and with the gemelli, which join its tendon, inserts on the forepart of the medial
#   surface of the greater trochanter above the trochanteric fossa.
ROTATORS = ("quadratus_femoris", "obturator_internus", "obturator_externus")
# Obturator externus runs from the outer face of the obturator membrane (the centroid of the
# foramen's medial FORAMEN_MEDIAL, ATTACH_CLEARANCE out of the membrane's plane on its outer
# side) to the trochanteric fossa, and its tendon winds under and then behind the femoral neck
# (a sling under the neck: Gudena et al. 2015, Hip Int 25:424-427). Straight, it cut the
# femoral head and neck at every sagittal angle (9.8 mm at -20 deg). Tried first and left
# out: over the femoral head sphere alone it cut the underside of the neck (32.9% of the
# off-plane test's poses more than 2 mm inside, up to 14.7 mm); over the iliopsoas's neck
# cylinder alone the head (39.2%, up to 13.2 mm); over the sphere then that cylinder the
# sagittal plane was clear but 11.8% of the off-plane poses were not (up to 11.6 mm) and its
# adduction moment arm stepped by 2.6 mm a degree. Tried in session 35 on the neck's own axis
# (head centre to the narrowest section's centroid, _femoral_neck): the fossa lies 20.8 mm
# from it, inside any cylinder there that holds the head, which shrinks the wrap to the fossa's
# distance; alone, such a cylinder (radius 19-25 mm) let the line through the back of the
# head in deep flexion (5.0-6.3 mm at 130 deg) and in 29-33% of the off-plane poses (up to
# 13.2 mm: with the hip flexed past 95 deg and abducted the origin comes as near as 8 mm to
# that axis's medial reach, inside the cylinder); after the head sphere, 16.6-19.1% (up to 9.9 mm: the
# cylinder's entry point lies inside the sphere, which shrinks the sphere's wrap, and a sphere
# then a cylinder on one body has no both-surfaces state but the iteration's). What works is one
# surface of its own, the neck sling (_neck_sling): the cylinder about the iliopsoas neck
# cylinder's fitted axis (the straightest direction of the neck's underside, 28.5 deg from the
# neck's own axis toward the calcar) through the head centre, with the femoral head sphere's
# radius: it holds the head and its capsule whole, the fossa lies 1.4 mm outside it, and the
# origin at least 31.3 mm from its axis over the explorer's ranges (2-deg grid), so neither end
# shrinks it. Over the sagittal range the line keeps 2.9 mm off the femur, and its first
# stretch lies on the ischium below the acetabulum, where the tendon runs in its groove (within
# the distance grid's surface cells there, never inside); none of the off-plane test's poses
# takes it more than 2 mm into bone. Beyond the explorer's ranges (hip flexed 140 deg, abducted
# 45 and turned 45 deg inward) the origin comes within 18 mm of the axis, inside the sling.
# The obturator foramen: the largest hole in the hip bone below the hip centre seen along a
# direction on a FORAMEN_GRID-degree grid of azimuth (about the vertical, from lateral toward
# anterior) and elevation within FORAMEN_REACH degrees of lateral (surface samples every
# FORAMEN_PITCH on a square image, closed twice so that no gap between samples reads as a hole);
# its plane is the median depth along that direction of the bone round it (within 3 px), its
# outer side the one the direction points to (anterolateral, below).
FORAMEN_GRID = 10
FORAMEN_REACH = 60
FORAMEN_PITCH = 0.001
# Obturator externus arises from the medial two-thirds of the membrane (Gray's): the foramen's
# cells beyond the first third of its extent from its lateral edge, along the pelvis's medial
# direction (-z) in the membrane's plane.
FORAMEN_MEDIAL = 2.0 / 3.0
# The lesser sciatic notch: the ischium's posterior border (every NOTCH_STEP of height from the
# hip centre's down to NOTCH_REACH below it, of HIP_SAMPLES points on the hip bone's surface those
# within NOTCH_SLAB of that height, the most posterior) followed up from the ischial tuberosity
# (its most posterior point) while it recedes forward: where it turns back toward the ischial
# spine (9 mm below the hip centre on this pelvis, 9 mm in front of the tuberosity's back).
NOTCH_SLAB = 0.001
NOTCH_STEP = 0.002
NOTCH_REACH = 0.05
HIP_SAMPLES = 200000  # points sampled on the hip bone's surface (seed 1) for these rules
# Quadratus femoris's origin: the lateral border of the ischial tuberosity, its upper half (from
# the notch's height halfway down to the ischium's lowest point): per 1 mm of height the most
# lateral surface sample more than ISCHIUM_BEHIND behind the hip centre (behind the acetabulum's
# posterior wall), their centroid. Its insertion: the intertrochanteric crest QF_LEVEL (60%) of
# the way from the greater trochanter's summit down to the lesser trochanter's apex (the
# quadrate tubercle lies a little above the crest's middle and the insertion continues on the
# line below it, Gray's; at the plain middle, 50%, the point fell on the trochanter's outer lip
# and the line cut the trochanter's back in 2.1% of the off-plane test's poses, up to 3.0 mm, so
# the level was partly chosen for clearance): at that height, the centroid of the femur vertices within CREST_BAND of the most posterior one
# between the lesser trochanter and CREST_LATERAL lateral of the summit.
ISCHIUM_BEHIND = 0.035
CREST_BAND = 0.001
QF_LEVEL = 0.6
CREST_LATERAL = 0.010
# The trochanteric fossa (obturator externus): the proximal femur's deepest pocket, the femur
# vertex above the lesser trochanter's apex farthest inside the convex hull of those vertices
# (20.7 mm deep on this femur, between the back of the neck and the greater trochanter).
# Obturator internus inserts above and in front of it: the femur vertex nearest the midpoint of
# the fossa and the trochanter's summit (piriformis's insertion, which lies behind it).


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", help="comma-separated muscle ids: regenerate only their [[line]] "
                    "sections (wraps.toml is left alone unless --wraps is given)")  # fmt: skip
    ap.add_argument("--wraps", help="comma-separated wrap ids: regenerate only these wraps.toml "
                    "entries (others are kept; new ids are appended)")  # fmt: skip
    ap.add_argument("--wrap-lists", action="store_true", help="only rewrite the wraps = [...] "
                    "list of every generated line from WRAPS, keeping its points")  # fmt: skip
    args = ap.parse_args(argv)
    if args.wrap_lists:
        _rewrite_wrap_lists()
        return
    only = set(args.only.split(",")) if args.only else None
    wrap_ids = set(args.wraps.split(",")) if args.wraps else None
    pack = AssetPack()
    if only is None and wrap_ids is None:  # the knee axis and the patella's coupling first:
        sys.path.insert(0, str(Path(__file__).resolve().parent))  # the paths pose them
        import derive_knee_axis
        import derive_patella

        derive_knee_axis.main()
        derive_patella.main()
    lm = pack.landmarks
    scan = {b: pack.body_at_scan(b) for b in BODIES}
    inv = {b: np.linalg.inv(m) for b, m in scan.items()}

    def to_body(body: str, pts: np.ndarray) -> np.ndarray:
        return pts @ inv[body][:3, :3].T + inv[body][:3, 3]

    sdf = {}
    for b in scan:
        origin, pitch, values = pack.sdf(b)
        sdf[b] = (origin, pitch, values)

    def dist(body: str, pts_pelvis: np.ndarray) -> np.ndarray:
        origin, pitch, values = sdf[body]
        idx = (to_body(body, pts_pelvis) - origin) / pitch
        return ndimage.map_coordinates(values, idx.T, order=1, mode="constant", cval=1.0)

    bone_pts = {}
    for mid in pack.mesh_ids:
        if pack.mesh_body(mid) and not _is_muscle(mid):
            m = pack.mesh(mid, "full")
            bone_pts[mid] = (pack.mesh_body(mid), m.vertices.astype(float))
    trees = {k: cKDTree(v[1]) for k, v in bone_pts.items()}
    pelvis_bones = ["hip_r", "sacrum", "l1", "l2", "l3", "l4", "l5"]

    def snap(bones: list[str], p_pelvis: np.ndarray) -> tuple[str, np.ndarray]:
        best = None
        for bone in bones:
            body = bone_pts[bone][0]
            q = to_body(body, p_pelvis[None])[0]
            d, i = trees[bone].query(q)
            if best is None or d < best[0]:
                best = (d, body, bone_pts[bone][1][i])
        assert best is not None
        return best[1], best[2]

    def bone_distance(body: str, q_body: np.ndarray) -> np.ndarray:
        """Signed distance from a body's bones of points in its own frame (negative inside)."""
        origin, pitch, values = sdf[body]
        idx = (np.atleast_2d(q_body) - origin) / pitch
        return ndimage.map_coordinates(values, idx.T, order=1, mode="constant", cval=1.0)

    def lift(body: str, p_body: np.ndarray, clearance: float = ATTACH_CLEARANCE) -> np.ndarray:
        """Move a point on a bone out along the distance gradient until ``clearance`` from it."""
        origin, pitch, values = sdf[body]

        def d(q: np.ndarray) -> float:
            idx = ((q - origin) / pitch)[:, None]
            return float(
                ndimage.map_coordinates(values, idx, order=1, mode="constant", cval=1.0)[0]
            )

        q = np.asarray(p_body, float).copy()
        for _ in range(40):
            dq = d(q)
            if dq >= clearance:
                break
            g = np.array([d(q + e * pitch) - d(q - e * pitch) for e in np.eye(3)])
            g /= max(np.linalg.norm(g), 1e-12)
            q = q + g * max(clearance - dq, 2e-4)
        return q

    knee_y = scan["tibia_r"][1, 3]
    fem = bone_pts["femur_r"][1]
    band = fem[(fem[:, 1] < -0.03) & (fem[:, 1] > -0.09)]
    lt = band[np.argmax(-band[:, 0] - band[:, 2])]  # posteromedial prominence
    lesser_trochanter = scan["femur_r"][:3, :3] @ lt + scan["femur_r"][:3, 3]
    # Piriformis's tendon is not part of its surface model, which stops above the hip joint: it
    # inserts on the upper border of the greater trochanter, its highest point (femur vertices
    # more than 3 cm lateral of the hip centre).
    lateral = fem[fem[:, 2] > 0.03]
    gt_top = lateral[np.argmax(lateral[:, 1])]
    greater_trochanter_top = scan["femur_r"][:3, :3] @ gt_top + scan["femur_r"][:3, 3]
    # The lateral facet of the greater trochanter: trochanter vertices (more than 3 cm lateral of,
    # and at most 4.5 cm below, the hip centre) whose outward normal points laterally.
    fem_normals = trimesh.Trimesh(
        fem, pack.mesh("femur_r", "full").faces, process=False
    ).vertex_normals
    facet = (fem[:, 2] > 0.03) & (fem[:, 1] > -0.045) & (fem_normals[:, 2] > 0.8)
    lateral_facet = scan["femur_r"][:3, :3] @ fem[facet].mean(axis=0) + scan["femur_r"][:3, 3]
    # Gerdy's tubercle: the most anterolateral tibia vertex within 4 cm below the knee centre;
    # the iliotibial tract passes 5 mm outside the lateral epicondyle on its way there.
    tib = bone_pts["tibia_r"][1]
    top = tib[tib[:, 1] > -0.04]
    gerdy_t = top[np.argmax(top[:, 0] + top[:, 2])]
    gerdy = scan["tibia_r"][:3, :3] @ gerdy_t + scan["tibia_r"][:3, 3]
    lat_epi = to_body("femur_r", lm["lateral_epicondyle_r"][None])[0]
    pes, pes_vias = _pes_anserinus(pack.mesh("tibia_r", "full"), lambda q: lift("tibia_r", q),
                                   lambda q: bone_distance("tibia_r", q))  # fmt: skip

    def linea_aspera(v: np.ndarray, d: np.ndarray, distal: np.ndarray) -> np.ndarray:
        """Adductor longus's insertion (pelvis frame): the medial lip of the linea aspera, the
        femur vertex within LINEA_ASPERA_BAND of the height where the muscle comes nearest the
        femur (its LINEA_ASPERA_NEAREST distal-half vertices nearest the bone) that lies farthest
        posteromedially (45 deg between back and medial) from those vertices' centroid."""
        near = np.flatnonzero(distal)[np.argsort(np.abs(d[distal]))[:LINEA_ASPERA_NEAREST]]
        level = to_body("femur_r", v[near])[:, 1].mean()
        band = fem[np.abs(fem[:, 1] - level) < LINEA_ASPERA_BAND]
        lip = band[np.argmax((band.mean(axis=0) - band)[:, [0, 2]].sum(axis=1))]
        return scan["femur_r"][:3, :3] @ lip + scan["femur_r"][:3, 3]

    it_tract_knee = lat_epi + np.array([0.0, 0.0, 0.005])
    print("lesser trochanter (femur frame):", lt.round(4))
    # femur attachments (femur frame), for wrap radii: the current data, then regenerated lines
    femur_ends: dict[str, np.ndarray] = {
        ln.name: np.asarray(ln.points[-1].position)
        for m in load_anatomy().muscles.values()
        for ln in m.line
        if ln.points[-1].body == "femur_r"
    }
    # sartorius's points (body, position) as the data will hold them after this run: the vasti
    # sphere is fitted to them, so it must see the line this run writes, not the one it replaces
    # (load_anatomy() is cached: it still gives the data as it stood before this run)
    sartorius = [
        (q.body, np.asarray(q.position)) for q in load_anatomy().muscles["sartorius"].line[0].points
    ]
    psoas: tuple[Path, list[tuple[str, float, list[np.ndarray], str, np.ndarray]]] | None = None
    rotators: dict[str, list[tuple[str, str, np.ndarray]]] | None = None
    for f in sorted((data_dir() / "muscles").glob("*.toml")):
        mid = f.stem
        if only is not None and mid not in only:
            continue
        if tomllib.loads(f.read_text()).get("mesh") is None:  # no surface model: landmarks
            if mid not in ROTATORS:
                raise SystemExit(f"{mid}: no surface model and no landmark rule")
            if rotators is None:
                rotators = _deep_rotators(pack.mesh("hip_r", "full"), fem, lm["hip_centre_r"],
                                          lt, gt_top, lift)  # fmt: skip
            femur_ends[mid] = rotators[mid][-1][2]
            if wrap_ids is not None and only is None:
                continue
            _write_lines(f, [_line_toml(mid, 1.0, rotators[mid], WRAPS.get(mid, []))])
            print(f"{mid}: 1 line (landmarks)")
            continue
        v = pack.mesh(mid, "full").vertices.astype(float)
        c = v.mean(axis=0)
        _, _, vt = np.linalg.svd(v - c, full_matrices=False)
        axis = vt[0] if vt[0][1] > 0 else -vt[0]  # points proximally
        s = (v - c) @ axis
        proximal, distal = s > np.median(s), s < np.median(s)
        body_d, bone_d = DISTAL.get(mid, ("femur_r", "femur_r"))
        dp = dist("pelvis", v)
        dd = dist(body_d, v)
        centre_line = _centre_line(v, s)

        def insertion(mask: np.ndarray) -> np.ndarray:
            patch = mask & distal & (np.abs(dd) < 0.003)
            if patch.sum() >= 20 and mid not in DISTAL and mid not in GLIDES:
                return v[patch].mean(axis=0)
            return v[s <= np.quantile(s[mask] if mask.any() else s, 0.02)].mean(axis=0)

        lines = []
        patch = proximal & (np.abs(dp) < 0.003)  # contact with the pelvis, proximal half
        if mid == "psoas":
            for lvl in ("l1", "l3", "l5"):
                d_v, _ = trees[lvl].query(to_body("pelvis", v))
                near = d_v < 0.004
                if near.sum() < 10:
                    near = d_v < np.quantile(d_v, 0.01)
                lines.append(
                    (f"psoas_{lvl}", 1 / 3, v[near].mean(axis=0), [lvl], np.ones(len(v), bool))
                )
        elif mid == "gluteus_maximus":
            ymed = np.median(v[patch][:, 1])
            upper = v[:, 1] > ymed
            for name, part in (("upper", upper), ("lower", ~upper)):
                lines.append((f"gluteus_maximus_{name}", 0.5, v[patch & part].mean(axis=0),
                              pelvis_bones, part))  # fmt: skip
        elif mid == "gluteus_medius":
            # thirds of the pelvic contact patch, front to back, weighted as Rajagopal's parts
            ant = to_body("pelvis", v)[:, 0]
            cut = np.quantile(ant[patch], [1 / 3, 2 / 3])
            thirds = (ant >= cut[1], (ant >= cut[0]) & (ant < cut[1]), ant < cut[0])
            total = sum(f for _, f in GLMED_PARTS)
            for (part, force), sel in zip(GLMED_PARTS, thirds, strict=True):
                lines.append((f"gluteus_medius_{part}", force / total, v[patch & sel].mean(axis=0),
                              pelvis_bones, sel))  # fmt: skip
        else:
            if patch.sum() < 20:
                patch = s >= np.quantile(s, 0.98)
            lines.append((mid, 1.0, v[patch].mean(axis=0), pelvis_bones, np.ones(len(v), bool)))

        blocks = []
        slides: list[tuple[str, float, list[np.ndarray], str, np.ndarray]] = []
        for name, weight, o, obones, mask in lines:
            ob, op = snap(obones, o)
            # The iliopsoas tendon is not part of the surface models (psoas stops at the hip):
            # both insert on the lesser trochanter, found on the femur itself.
            ins = insertion(mask) if mid not in ("psoas", "iliacus") else lesser_trochanter
            if mid == "tensor_fasciae_latae":
                ins = gerdy  # via the iliotibial tract, which the surface model leaves out
            if mid == "piriformis" or name == "gluteus_medius_posterior":
                ins = greater_trochanter_top  # their tendons are not segmented either
            elif mid == "gluteus_medius":
                ins = lateral_facet
            if mid == "adductor_longus":  # its aponeurosis is not segmented either
                ins = linea_aspera(v, dd, distal)
            ib, ip = snap([bone_d], ins)
            op, ip = lift(ob, op), lift(ib, ip)
            if mid in pes:  # a landmark on the tibia, found on the bone itself
                ib, ip = "tibia_r", pes[mid]
            if mid == "psoas":  # its origin slid forward along the vertebra: _clear_psoas chooses
                slides.append((name, weight, _unique([
                    lift(ob, snap(obones, o + k * PSOAS_STEP * np.array([1.0, 0.0, 0.0]))[1])
                    for k in range(round(PSOAS_SLIDE / PSOAS_STEP) + 1)]), ib, ip))  # fmt: skip
            pts = [("origin", ob, op)]
            if mid == "tensor_fasciae_latae":
                pts.append(("via", "femur_r", it_tract_knee))
            if mid in KNEE_VIA:
                k2 = int(np.argmin(np.abs(centre_line[:, 1] - knee_y - 0.03)))
                pts.append(("via", "femur_r", to_body("femur_r", centre_line[k2][None])[0]))
            if mid in PES_ANSERINUS:
                pts += [("via", "tibia_r", q) for q in pes_vias[mid]]
            pts.append(("insertion", ib, ip))
            if ib == "femur_r":
                femur_ends[name] = ip
            blocks.append(_line_toml(name, weight, pts, WRAPS.get(name, WRAPS.get(mid, []))))
        if wrap_ids is not None and only is None:
            continue  # --wraps alone writes wraps.toml only (the lines were derived for femur_ends)
        if mid == "sartorius":  # one line
            sartorius = [(b, np.asarray(q)) for _, b, q in pts]
        if mid == "psoas":  # written once this run's wraps are known (_clear_psoas)
            psoas = (f, slides)
            continue
        _write_lines(f, blocks)
        print(f"{mid}: {len(blocks)} line(s)")
    if only is not None and wrap_ids is None and psoas is None:
        return
    header, blocks = _wraps(pack, lm, inv, to_body, trees, bone_pts, sdf, femur_ends, lt,
                            sartorius)  # fmt: skip
    if psoas is not None:
        f, slides = psoas
        origins = _clear_psoas(pack, blocks, slides)
        _write_lines(f, [_line_toml(name, weight, [("origin", "pelvis", origin),
                                                   ("insertion", ib, ip)], WRAPS["psoas"])
                         for (name, weight, _, ib, ip), origin in zip(slides, origins, strict=True)])  # fmt: skip
        print(f"psoas: {len(slides)} line(s)")
    if only is not None and wrap_ids is None:
        return
    path = data_dir() / "wraps.toml"
    if wrap_ids is not None:  # keep the other entries as they are
        unknown = wrap_ids - set(blocks)
        if unknown:
            raise SystemExit(f"unknown wrap ids: {', '.join(sorted(unknown))}")
        kept = _split_wraps(path.read_text())
        for wid in wrap_ids:
            kept[wid] = blocks[wid]
        blocks = kept
    elif path.is_file():  # a full run keeps the file's order (new ids last), so its diff shows
        # only what changed; entries no longer generated are dropped
        order = [wid for wid in _split_wraps(path.read_text()) if wid in blocks]
        blocks = {wid: blocks[wid] for wid in [*order, *(w for w in blocks if w not in order)]}
    path.write_text("\n".join(header + [row for b in blocks.values() for row in b]) + "\n")


def _pes_anserinus(
    tibia: object, lift: Callable[[np.ndarray], np.ndarray], distance: Callable[[np.ndarray], np.ndarray]
) -> tuple[dict[str, np.ndarray], dict[str, list[np.ndarray]]]:
    """Insertions and tibial via points (tibia frame) of the muscles in PES_ANSERINUS (module
    docstring), and semimembranosus's insertion (SEMIMEMBRANOSUS_GROOVE), which has no vias. ``tibia`` is the tibia's full mesh, ``lift`` moves a point on it out to
    ATTACH_CLEARANCE, ``distance`` is the signed distance from the tibia's bones."""
    mesh = trimesh.Trimesh(tibia.vertices, tibia.faces, process=False)  # type: ignore[attr-defined]
    v, n = mesh.vertices, mesh.vertex_normals
    plateau = (n[:, 1] > PLATEAU_FACING) & (v[:, 1] > -0.06) & (v[:, 2] < -0.01)
    joint_line = float(np.median(v[plateau, 1]))

    def section(y: float) -> np.ndarray:
        """Points (every 1/20 of each edge) of the tibia's cross-section at height ``y``."""
        segs = mesh_plane(mesh, [0.0, 1.0, 0.0], [0.0, y, 0.0])
        t = np.linspace(0.0, 1.0, 20)[:, None, None]
        return (segs[None, :, 0] * (1 - t) + segs[None, :, 1] * t).reshape(-1, 3)

    def relief(a: np.ndarray, b: np.ndarray, depth: int = 0) -> list[np.ndarray]:
        """Via points between a and b so that no straight stretch enters the bone."""
        p = a + np.linspace(0.0, 1.0, 201)[:, None] * (b - a)
        d = distance(p)
        if d.min() >= 0.0 or depth == 3:
            return []
        m = lift(p[np.argmin(d)])
        return [*relief(a, m, depth + 1), m, *relief(m, b, depth + 1)]

    def corner_of(below: float, angle: float) -> np.ndarray:
        """The cross-section's point ``below`` the joint line farthest toward ``angle`` (from
        straight back toward medial), lifted off the bone."""
        rim = section(joint_line - below)
        toward = np.array([-np.cos(angle), 0.0, -np.sin(angle)])
        return lift(rim[np.argmax(rim @ toward)])

    insertions, vias = {"semimembranosus": corner_of(*SEMIMEMBRANOSUS_GROOVE)}, {}
    for mid, (below, behind_crest) in PES_ANSERINUS.items():
        corner = corner_of(*PES_CORNER[mid])
        ring = section(joint_line - below)
        crest = ring[np.argmax(ring[:, 0])]  # the anterior border, the most anterior point
        medial = ring[ring[:, 2] < crest[2]]
        ins = lift(medial[np.argmin(np.abs(np.linalg.norm(medial - crest, axis=1) - behind_crest))])
        insertions[mid] = ins
        vias[mid] = [corner, *relief(corner, ins)]
        print(f"{mid}: pes anserinus {np.round(1000 * ins, 1)} mm (tibia frame; joint line "
              f"{1000 * joint_line:.1f} mm), {len(vias[mid])} tibial via point(s)")  # fmt: skip
    return insertions, vias


def _obturator_foramen(
    samples: np.ndarray, hip_centre: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The obturator foramen (pelvis frame): its centre on the membrane's plane, the plane's
    outward normal (FORAMEN_GRID's rule) and the hole's cells on that plane (FORAMEN_PITCH
    apart), from the hip bone's surface samples."""
    pts = samples[samples[:, 1] < hip_centre[1]]

    def holes(n: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        a = np.cross(n, [0.0, 1.0, 0.0])
        a /= np.linalg.norm(a)
        b = np.cross(n, a)
        uv = np.c_[pts @ a, pts @ b]
        lo = uv.min(axis=0)
        ij = np.floor((uv - lo) / FORAMEN_PITCH).astype(int)
        img = np.zeros(ij.max(axis=0) + 1, bool)
        img[ij[:, 0], ij[:, 1]] = True
        img = ndimage.binary_closing(img, iterations=2)
        label, count = ndimage.label(ndimage.binary_fill_holes(img) & ~img)
        if not count:
            return a, b, lo, ij, np.zeros(img.shape, bool)
        sizes = ndimage.sum(label > 0, label, range(1, count + 1))
        return a, b, lo, ij, label == 1 + int(np.argmax(sizes))

    grid = np.radians(np.arange(-FORAMEN_REACH, FORAMEN_REACH + 1, FORAMEN_GRID))
    dirs = [np.array([np.sin(az) * np.cos(el), np.sin(el), np.cos(az) * np.cos(el)])
            for az in grid for el in grid]  # fmt: skip
    n = max(dirs, key=lambda d: int(holes(d)[4].sum()))
    a, b, lo, ij, hole = holes(n)
    ring = ndimage.binary_dilation(hole, iterations=3) & ~hole
    depth = float(np.median(pts[ring[ij[:, 0], ij[:, 1]]] @ n))
    cells = np.argwhere(hole) * FORAMEN_PITCH + lo + 0.5 * FORAMEN_PITCH
    on_plane = cells[:, :1] * a + cells[:, 1:] * b + depth * n
    print(f"obturator foramen: {len(cells)} mm2 seen along {np.round(n, 3)}, centre "
          f"{np.round(1000 * on_plane.mean(axis=0), 1)} mm (pelvis frame)")  # fmt: skip
    return on_plane.mean(axis=0), n, on_plane


def _deep_rotators(
    hip_bone: object, femur: np.ndarray, hip_centre: np.ndarray, lesser_trochanter: np.ndarray,
    gt_top: np.ndarray, lift: Callable[[str, np.ndarray], np.ndarray],
) -> dict[str, list[tuple[str, str, np.ndarray]]]:
    """Path points of ROTATORS (kind, body, position in the body's frame) by the rules above:
    ``hip_bone`` is the hip bone's full mesh (pelvis frame), ``femur`` the femur's vertices
    (femur frame), ``lesser_trochanter`` and ``gt_top`` its apex and the greater trochanter's
    summit there, ``lift`` moves a point on a body's bones out to ATTACH_CLEARANCE."""
    from scipy.spatial import ConvexHull

    mesh = trimesh.Trimesh(hip_bone.vertices, hip_bone.faces, process=False)  # type: ignore[attr-defined]
    hv, _ = trimesh.sample.sample_surface(mesh, HIP_SAMPLES, seed=1)
    centre, normal, membrane = _obturator_foramen(hv, hip_centre)
    # obturator externus: the membrane's medial part (FORAMEN_MEDIAL), on its outer side
    toward = np.array([0.0, 0.0, -1.0])  # medial
    toward -= (toward @ normal) * normal
    reach = membrane @ (toward / np.linalg.norm(toward))
    outer = membrane[reach >= reach.max() - FORAMEN_MEDIAL * np.ptp(reach)].mean(axis=0)
    # the lesser sciatic notch
    heights = np.arange(hip_centre[1], hip_centre[1] - NOTCH_REACH, -NOTCH_STEP)
    border = np.array([slab[np.argmin(slab[:, 0])] for slab in
                       (hv[np.abs(hv[:, 1] - y) < NOTCH_SLAB] for y in heights)])  # fmt: skip
    k = int(np.argmin(border[:, 0]))  # the tuberosity's most posterior point
    while k > 0 and border[k - 1, 0] >= border[k, 0]:
        k -= 1  # up the border while it recedes forward
    notch = border[k]
    # quadratus femoris: the tuberosity's lateral border, upper half
    low = hv[:, 1].min()
    upper = []
    for y in np.arange(notch[1], 0.5 * (notch[1] + low), -0.001):
        slab = hv[(np.abs(hv[:, 1] - y) < NOTCH_SLAB) & (hv[:, 0] < hip_centre[0] - ISCHIUM_BEHIND)]
        if len(slab):
            upper.append(slab[np.argmax(slab[:, 2])])
    qf_origin = mesh.vertices[np.argmin(np.linalg.norm(mesh.vertices - np.mean(upper, axis=0),
                                                       axis=1))]  # fmt: skip
    y_crest = gt_top[1] + QF_LEVEL * (lesser_trochanter[1] - gt_top[1])
    slab = femur[(np.abs(femur[:, 1] - y_crest) < NOTCH_SLAB) & (femur[:, 2] > lesser_trochanter[2])
                 & (femur[:, 2] < gt_top[2] + CREST_LATERAL)]  # fmt: skip
    crest = slab[slab[:, 0] < slab[:, 0].min() + CREST_BAND].mean(axis=0)
    qf_insertion = femur[np.argmin(np.linalg.norm(femur - crest, axis=1))]
    # the trochanteric fossa and obturator internus's insertion above it
    prox = femur[femur[:, 1] > lesser_trochanter[1]]
    hull = ConvexHull(prox)
    depth = -(prox @ hull.equations[:, :3].T + hull.equations[:, 3]).max(axis=1)
    fossa = prox[np.argmax(depth)]
    oi_insertion = femur[np.argmin(np.linalg.norm(femur - 0.5 * (fossa + gt_top), axis=1))]
    print(f"deep rotators: lesser sciatic notch {np.round(1000 * notch, 1)} mm (pelvis frame), "
          f"trochanteric fossa {np.round(1000 * fossa, 1)} mm deep {1000 * depth.max():.1f} mm, "
          f"quadrate tubercle {np.round(1000 * qf_insertion, 1)} mm (femur frame); obturator "
          f"externus from the membrane's medial part {np.round(1000 * outer, 1)} mm (pelvis "
          f"frame)")  # fmt: skip
    return {
        "quadratus_femoris": [("origin", "pelvis", lift("pelvis", qf_origin)),
                              ("insertion", "femur_r", lift("femur_r", qf_insertion))],
        "obturator_internus": [("origin", "pelvis", centre - ATTACH_CLEARANCE * normal),
                               ("via", "pelvis", lift("pelvis", notch)),
                               ("insertion", "femur_r", lift("femur_r", oi_insertion))],
        "obturator_externus": [("origin", "pelvis", outer + ATTACH_CLEARANCE * normal),
                               ("insertion", "femur_r", lift("femur_r", fossa))],
    }  # fmt: skip


def _write_lines(f: Path, blocks: list[str]) -> None:
    """Replace the generated ``[[line]]`` section of a muscle file."""
    text = f.read_text()
    f.write_text(text.split(MARK)[0].rstrip() + "\n\n" + MARK + "\n" + "\n".join(blocks))


def _unique(points: list[np.ndarray]) -> list[np.ndarray]:
    """The points in their order, each once (slid targets often snap to the same vertex)."""
    out: list[np.ndarray] = []
    for p in points:
        if not any(np.allclose(p, q, rtol=0, atol=1e-9) for q in out):
            out.append(p)
    return out


def _clear_psoas(
    pack: AssetPack,
    wrap_rows: dict[str, list[str]],
    slides: list[tuple[str, float, list[np.ndarray], str, np.ndarray]],
) -> list[np.ndarray]:
    """Each psoas line's origin (pelvis frame): the first of its candidates (its contact
    centroid slid forward along its vertebra, module docstring) whose line of action, as the
    model wraps it over this run's surfaces, stays PSOAS_MARGIN clear of every other lumbar
    vertebra at every hip flexion angle of HIP_RANGE (whole degrees; psoas does not cross the
    knee)."""
    from hipflex.anatomy import Wrap
    from hipflex.assets.geometry import SignedDistanceGrid
    from hipflex.model.kinematics import Skeleton, body_transforms
    from hipflex.model.skeleton import LineGeometry, ModelContext
    from hipflex.model.wrapping import path_set

    anatomy = load_anatomy()
    wraps = {**anatomy.wraps, **{wid: Wrap(**tomllib.loads("\n".join(wrap_rows[wid]))["wrap"][0])
                                 for wid in WRAPS["psoas"]}}  # fmt: skip
    anatomy = anatomy.model_copy(update={"wraps": wraps})
    lines = [LineGeometry("psoas", f"{name}/{k}", weight, ("pelvis", ib), np.array([o, ip]),
                          tuple(WRAPS["psoas"]))
             for name, weight, cands, ib, ip in slides for k, o in enumerate(cands)]  # fmt: skip
    ctx = ModelContext(anatomy=anatomy, pack=pack, skeleton=Skeleton.from_pack(pack, anatomy),
                       lines=lines)  # fmt: skip
    hips = np.arange(HIP_RANGE[0], HIP_RANGE[1] + 1e-9, 1.0)
    tr = body_transforms(ctx.skeleton, hip_flexion=hips)
    ps = path_set(ctx)
    groups = {ps.line_group[ln.name][0] for ln in lines}
    posed = {g: ps.evaluate(tr, with_points=True, only_group=g)[1][0] for g in groups}
    grids = {}
    for v in LUMBAR:
        m = pack.mesh(v, "full")
        grids[v] = SignedDistanceGrid.from_meshes(
            [trimesh.Trimesh(m.vertices, m.faces, process=False)], pitch=0.001, margin=0.02
        )
    inv = np.linalg.inv(tr["pelvis"])
    out = []
    for name, _, cands, _, _ in slides:
        own = name.removeprefix("psoas_")
        for k in range(len(cands)):
            g, j = ps.line_group[f"{name}/{k}"]
            pts = posed[g][:, j]
            pts = np.einsum("nij,nkj->nki", inv[:, :3, :3], pts) + inv[:, None, :3, 3]
            a, b = pts[:, :-1], pts[:, 1:]
            n = int(np.ceil(np.linalg.norm(b - a, axis=2).max() / 0.0005)) + 1
            t = np.linspace(0.0, 1.0, n)[None, None, :, None]
            samples = (a[:, :, None] + (b - a)[:, :, None] * t).reshape(-1, 3)
            clear = min(float(grids[v](samples).min()) for v in LUMBAR if v != own)
            if clear >= PSOAS_MARGIN:
                print(f"{name}: origin {1000 * np.linalg.norm(cands[k] - cands[0]):.1f} mm forward "
                      f"of its contact's, {1000 * clear:.1f} mm clear of the other lumbar vertebrae")  # fmt: skip
                out.append(cands[k])
                break
        else:
            raise SystemExit(f"{name}: no origin within {1000 * PSOAS_SLIDE:.0f} mm forward of its "
                             f"contact clears the other lumbar vertebrae by {1000 * PSOAS_MARGIN:.0f} mm")  # fmt: skip
    return out


def _split_wraps(text: str) -> dict[str, list[str]]:
    """The [[wrap]] entries of a wraps.toml, by id, as the row lists ``_wrap`` makes."""
    out: dict[str, list[str]] = {}
    for chunk in text.split("\n[[wrap]]\n")[1:]:
        rows = ["", "[[wrap]]", *chunk.rstrip("\n").split("\n")]
        wid = re.search(r'^id = "([^"]+)"', chunk, re.M)
        assert wid is not None
        while rows[-1] == "":
            rows.pop()
        out[wid.group(1)] = rows
    return out


def _rewrite_wrap_lists() -> None:
    """Set each generated line's ``wraps = [...]`` from WRAPS; points stay as they are."""
    for f in sorted((data_dir() / "muscles").glob("*.toml")):
        head, sep, gen = f.read_text().partition(MARK)
        if not sep:
            continue
        blocks = re.split(r"(?m)^(?=\[\[line\]\])", gen)
        for i, block in enumerate(blocks):
            name = re.search(r'(?m)^name = "(.*)"$', block)
            wraps = WRAPS.get(name.group(1), WRAPS.get(f.stem, [])) if name else None
            if wraps is not None:
                w = ", ".join(f'"{x}"' for x in wraps)
                blocks[i] = re.sub(r"(?m)^wraps = \[.*\]$", f"wraps = [{w}]", block)
        f.write_text(head + sep + "".join(blocks))


def _is_muscle(mid: str) -> bool:
    return not re.fullmatch(r"(hip_[rl]|sacrum|l[1-5]|femur_r|patella_r|tibia_r|fibula_r)", mid)


def _centre_line(v: np.ndarray, s: np.ndarray, n: int = 12) -> np.ndarray:
    edges = np.linspace(s.min(), s.max(), n + 1)
    out = []
    for a, b in itertools.pairwise(edges):
        sel = (s >= a) & (s <= b)
        if sel.any():
            out.append(v[sel].mean(axis=0))
    return np.array(out)


def _fmt(p: np.ndarray) -> str:
    return "[" + ", ".join(f"{x:.5f}" for x in p) + "]"


def _line_toml(name: str, weight: float, pts: list, wraps: list[str]) -> str:
    rows = ",\n".join(
        f'  {{ kind = "{k}", body = "{b}", position = {_fmt(np.asarray(p))} }}' for k, b, p in pts
    )
    w = ", ".join(f'"{x}"' for x in wraps)
    return (f'\n[[line]]\nname = "{name}"\nweight = {weight:.6f}\nwraps = [{w}]\n'
            f"points = [\n{rows},\n]\n")  # fmt: skip


def _wraps(
    pack, lm, inv, to_body, trees, bone_pts, sdf, femur_ends, lesser_trochanter, sartorius
) -> tuple[list[str], dict[str, list[str]]]:  # type: ignore[no-untyped-def]
    header = ["# Wrap surfaces fitted to this skeleton by tools/derive_paths.py (rules in its docstring).",
              "# Positions in the named body's frame, metres. Cylinders have no ends: where one",
              "# counts is decided by its side and by the segment reaching it (hipflex.model)."]  # fmt: skip
    out: list[str] = []
    # Pelvic brim: the hip-bone point nearest the iliopsoas at hip-centre height, anterior.
    il = pack.mesh("iliacus", "full").vertices.astype(float)
    hip = lm["hip_centre_r"]
    near_hip = il[np.abs(il[:, 1] - hip[1] - 0.015) < 0.01]
    probe = near_hip.mean(axis=0)
    _, i = trees["hip_r"].query(probe)
    eminence = bone_pts["hip_r"][1][i]
    inward = (eminence - probe) / max(np.linalg.norm(eminence - probe), 1e-9)
    r = 0.012
    out += _wrap(
        "pelvic_brim_r",
        "pelvis",
        "cylinder",
        eminence + r * inward,
        r,
        [0.0, 0.0, 1.0],
        "Iliopectineal eminence / pelvic brim: the pulley iliopsoas turns over.",
        side=-inward,
    )
    head_r = pack.manifest["report"]["scan_pose_deg"]["femoral_head_radius_mm"] / 1000
    head_radius = head_r + HEAD_CAPSULE  # the head surfaces' radius: head and capsule
    # On the pelvis, centred on the hip centre: the head is a ball, so its surface stays where
    # it is whatever the femur's adduction and rotation. A cylinder on the femur swings its axis
    # with them, and its medial reach, where no head is, crosses the psoas at the brim
    # (docs/status.md, session 10). Flexion turns about this same axis, so sagittal poses are
    # unchanged.
    out += _wrap(
        "femoral_head_r",
        "pelvis",
        "cylinder",
        hip,
        head_radius,
        [0.0, 0, 1.0],
        "Femoral head and capsule (fitted head radius + 4 mm) about the hip's medio-lateral "
        "axis, fixed to the pelvis (the head is a ball: its surface does not move as the femur "
        "adducts or rotates): the second pulley of the iliopsoas tendon.",
        side=[1.0, 0, 0],
    )
    # The femoral neck, on the femur: the iliopsoas tendon's third surface, on its way from the
    # head to the lesser trochanter; without it the tendon cut the front of the neck when the
    # hip turned inward (_femoral_neck).
    neck_c, neck_axis, neck_r, neck_side = _femoral_neck(sdf["femur_r"], head_r, lesser_trochanter)
    out += _wrap(
        "femoral_neck_r",
        "femur_r",
        "cylinder",
        neck_c,
        neck_r,
        neck_axis,
        "Underside of the femoral neck and capsule (least-squares fit + 4 mm) on the femur; "
        "counts only beyond the head centre along its axis: the iliopsoas tendon's third "
        "pulley, between the head and the lesser trochanter, which keeps it out of the neck "
        "when the hip turns inward.",
        side=neck_side,
    )
    # Obturator externus's tendon slings under the femoral neck and winds up behind it to the
    # trochanteric fossa: one cylinder about the neck cylinder's axis through the head centre
    # holds it off the head and the neck (_neck_sling; ROTATORS has what was tried before).
    sling_c, sling_axis, sling_r, sling_side = _neck_sling(
        neck_axis, head_radius, femur_ends.get("obturator_externus")
    )
    out += _wrap(
        "femoral_neck_sling_r",
        "femur_r",
        "cylinder",
        sling_c,
        sling_r,
        sling_axis,
        "The femoral head and neck under obturator externus's tendon, which passes like a sling "
        "under the neck and behind it to the trochanteric fossa (Gudena et al. 2015, Hip Int "
        "25:424-427): a cylinder about the neck cylinder's axis (the straightest direction of "
        "the neck's underside) through the head centre, with the head sphere's radius (head + "
        "4 mm capsule), passed below and behind; the line cannot cut the head or the neck.",
        side=sling_side,
    )
    # Gluteus maximus passes behind the hip over the ischium and greater trochanter; a cylinder
    # about the hip's medio-lateral axis reaching the ischial tuberosity keeps it there.
    # Radius: the ischial tuberosity's distance from the hip axis, capped at 80% of the nearest
    # gluteus maximus origin's so that both lines start outside the cylinder.
    hv = bone_pts["hip_r"][1]
    hip_c = lm["hip_centre_r"]
    low = hv[hv[:, 1] < hip_c[1] - 0.02]
    tuber = low[np.argmin(low[:, 0])]  # most posterior point of the ischium below the hip
    gm = pack.mesh("gluteus_maximus", "full").vertices.astype(float)
    top = gm[gm[:, 1] > np.quantile(gm[:, 1], 0.8)]
    gm_ins = np.array([p for k, p in femur_ends.items() if k.startswith("gluteus_maximus")])
    r_post = min(
        float(np.linalg.norm((tuber - hip_c)[:2])),
        0.8 * float(np.min(np.linalg.norm((top - hip_c)[:, :2], axis=1))),
        0.8 * float(np.min(np.linalg.norm(gm_ins[:, :2], axis=1))),  # femur origin = hip centre
    )
    out += _wrap(
        "hip_posterior_r",
        "pelvis",
        "cylinder",
        hip_c,
        r_post,
        [0.0, 0, 1.0],
        "Behind the hip: about its medio-lateral axis, out to the ischial tuberosity.",
        side=[-1.0, 0, 0],
    )
    fv = bone_pts["femur_r"][1]
    # Gluteus medius's anterior and middle parts reach the lateral facet over the top of the
    # greater trochanter; with the hip adducted or turned outward their straight lines would cut
    # through it. A sphere (no fixed sense: a cylinder's turned the wrong way round when deep
    # flexion brings the origin below the facet) centred medial of the facet insertion, whose
    # radius is the smallest whole millimetre that holds every trochanter vertex above the
    # insertion (more than 3 cm lateral of the hip centre), so the insertion sits on its lateral
    # pole.
    facet_ins = femur_ends["gluteus_medius_middle"]
    above = fv[(fv[:, 2] > 0.03) & (fv[:, 1] > facet_ins[1])]
    lateral = np.array([0.0, 0, 1.0])
    r_gt = next(r for r in np.arange(0.010, 0.060, 0.001)
                if np.linalg.norm(above - (facet_ins - r * lateral), axis=1).max() <= r)  # fmt: skip
    out += _wrap(
        "greater_trochanter_top_r",
        "femur_r",
        "sphere",
        facet_ins - r_gt * lateral,
        r_gt,
        [1.0, 0, 0],
        "Top of the greater trochanter: a sphere through the lateral-facet insertion holding "
        "the trochanter above it; gluteus medius's anterior and middle parts and gluteus minimus "
        "pass over it, and the iliotibial tract (tensor fasciae latae), over the trochanteric "
        "bursa, on its way to the femoral shaft.",
        side=np.array([0.0, 1.0, 1.0]) / np.sqrt(2.0),
    )
    # Gluteus maximus's lower fibres pass behind the greater trochanter, over the trochanteric
    # (subgluteus maximus) bursa that covers its posterior facet (Pfirrmann et al. 2001), to the
    # gluteal tuberosity. In the sagittal plane the lower line's last stretch, from the
    # posterior hip cylinder to its insertion, already runs along the trochanter's back (seen
    # along the ML axis the femur's posterior profile lies within about a millimetre of it);
    # with the hip abducted and turned outward that stretch cut the back of the trochanter and
    # the intertrochanteric crest (81 of 3000 explorer poses more than 2 mm inside, up to
    # 8.9 mm). A roller about the femur's ML axis holds it there: tangent to that sagittal
    # stretch from the bone side, GT_ROLLER_GAP clear of it (so that the sagittal plane is
    # unchanged), level with the femur point lateral of the head centre that stands out
    # farthest behind it (the lower end of the trochanter's back); its radius the largest whole
    # millimetre with which it stays clear of the posterior hip cylinder (in the sagittal plane,
    # where their axes coincide: the two surfaces do not reach into each other); centred in the
    # head centre's plane, it counts only lateral of it, where the trochanter is (twowrap: a
    # surface fixed to a body distal of the first surface's).
    ins = femur_ends["gluteus_maximus_lower"][:2]
    reach, aim = float(np.linalg.norm(ins)), float(np.arctan2(ins[1], ins[0]))
    touch = [r_post * np.array([np.cos(aim + e * np.arccos(r_post / reach)),
                                np.sin(aim + e * np.arccos(r_post / reach))]) for e in (1.0, -1.0)]
    tangent = min(touch, key=lambda x: x[0])  # the posterior hip cylinder's back
    u = (tangent - ins) / np.linalg.norm(tangent - ins)
    bone_side = np.array([-u[1], u[0]]) * np.sign(-ins @ np.array([-u[1], u[0]]))
    behind = fv[(fv[:, 2] > 0.0) & (fv[:, 1] < 0.0) & (fv[:, 1] > ins[1])]
    corner = behind[np.argmin((behind[:, :2] - ins) @ bone_side)]
    level = ins + (corner[1] - ins[1]) / u[1] * u
    r_roll = max(r for r in np.arange(0.001, 0.0205, 0.001)
                 if np.linalg.norm(level + bone_side * (r + GT_ROLLER_GAP)) - r > r_post)  # fmt: skip
    out += _wrap(
        "greater_trochanter_posterior_r",
        "femur_r",
        "cylinder",
        [*(level + bone_side * (r_roll + GT_ROLLER_GAP)), 0.0],
        r_roll,
        [0.0, 0, 1.0],
        "Back of the greater trochanter, whose posterior facet the trochanteric (subgluteus "
        "maximus) bursa covers under gluteus maximus (Pfirrmann et al. 2001, Radiology "
        "221:469-477): a roller about the femur's medio-lateral axis just clear of the lower "
        "line's sagittal path, counted only lateral of the head centre; it holds the lower line "
        "off the trochanter and the intertrochanteric crest when the hip abducts and turns "
        "outward.",
        side=[*(-bone_side), 0.0],
    )
    # The hamstrings' common line, from the ischial tuberosity behind the femoral head to the
    # back of the condyles, passes behind the proximal femur; with the hip deeply flexed,
    # abducted and turned outward it cut the back of the proximal femur below the neck (the
    # intertrochanteric crest, the quadrate tubercle, the lesser trochanter: biceps femoris 48
    # and semitendinosus 9 of 3000 explorer poses more than 2 mm inside, up to 12.0 and 7.6 mm).
    # Quadratus femoris covers that surface, between it and the hamstring tendons. A sphere
    # fitted to it holds the line there (_quadratus_bed), between the head sphere and the
    # condyle cylinder on the one segment (threewrap.resolve_middle).
    bed_c, bed_r = _quadratus_bed(fv, pack.mesh("femur_r", "full").faces, lesser_trochanter,
                                  head_radius)
    out += _wrap(
        "quadratus_femoris_bed_r",
        "femur_r",
        "sphere",
        bed_c,
        bed_r,
        [0.0, 0, 1.0],
        "Back of the proximal femur below the neck (intertrochanteric crest, quadrate tubercle, "
        "lesser trochanter) under quadratus femoris: a sphere fitted 5 mm off it, the muscle "
        "squeezed as in ischiofemoral impingement (quadratus femoris space 5.3 mm, Barros et "
        "al. 2019, Radiol Bras 52:237-241), 36 mm in radius, its centre fitted 1 mm clear of "
        "the femoral head sphere (held down and out, 2 mm behind the head centre's plane, deep "
        "in the bone). The hamstrings pass behind it, between the femoral head and the "
        "condyles, when the deeply flexed hip abducts and turns outward; the sagittal paths "
        "stay clear of it.",
        side=[-1.0, 0, 0],
    )
    knee = (inv["femur_r"] @ pack.body_at_scan("tibia_r"))[:3, 3]
    # Rectus femoris lies on vastus intermedius, not on the femur: a large cylinder about the
    # medio-lateral axis at mid-thigh whose anterior surface is QUAD_BED in front of the most
    # anterior point of the shaft there, so the tendon cannot cut the anterior bow of the femur
    # when deep hip flexion brings its origin in line with the shaft.
    mid_y = 0.5 * knee[1]
    shaft = fv[np.abs(fv[:, 1] - mid_y) < 0.02]
    front = float(np.max(shaft[:, 0]))
    r_bed = 0.15  # gently curved bed; both rectus attachments stay outside it
    out += _wrap(
        "quadriceps_bed_r",
        "femur_r",
        "cylinder",
        [front + QUAD_BED - r_bed, mid_y, 0.0],
        r_bed,
        [0.0, 0.0, 1.0],
        "Vastus intermedius bed in front of the mid-thigh femoral shaft (rectus femoris).",
        side=[1.0, 0, 0],
    )
    # The iliotibial tract runs down the outside of the thigh over vastus lateralis. Its straight
    # line from the iliac origin to the lateral epicondyle cut the femoral shaft with the hip
    # turned or adducted (328 of 3000 explorer poses, up to 16 mm). A cylinder about the shaft's
    # axis (slice centroids from 25% to 80% of the way to the knee), just enclosing that stretch
    # of shaft, keeps the tract lateral of the bone. (With 3 mm to spare it also engaged in the
    # sagittal plane at 129-130 deg and stepped TFL's moment arm by 2.4 mm a degree there.)
    band = (fv[:, 1] < 0.25 * knee[1]) & (fv[:, 1] > 0.80 * knee[1])
    levels = np.linspace(0.25 * knee[1], 0.80 * knee[1], 12)
    cents = np.array([fv[np.abs(fv[:, 1] - y) < 0.005].mean(axis=0) for y in levels])
    c_shaft = cents.mean(axis=0)
    shaft_axis = np.linalg.svd(cents - c_shaft)[2][0]
    shaft_axis = shaft_axis if shaft_axis[1] > 0 else -shaft_axis  # proximal
    off = fv[band] - c_shaft
    off -= np.outer(off @ shaft_axis, shaft_axis)
    r_shaft = float(np.linalg.norm(off, axis=1).max())
    out_side = lateral - (lateral @ shaft_axis) * shaft_axis
    out += _wrap(
        "femoral_shaft_lateral_r",
        "femur_r",
        "cylinder",
        c_shaft,
        r_shaft,
        shaft_axis,
        "Femoral shaft about its own axis (its largest radius from 25% to 80% of the way to "
        "the knee), passed laterally: the iliotibial tract cannot cut through the shaft "
        "when the hip turns or adducts.",
        side=out_side / np.linalg.norm(out_side),
    )
    # Sartorius crosses the front of the thigh from the anterior superior iliac spine to the
    # medial side of the knee over the quadriceps (rectus femoris above, vastus medialis and
    # intermedius below), not on the femur. With the hip flexed and turned inward, which swings
    # the shaft (lateral of the hip-knee line) forward into it, its straight line from the
    # femoral-head sphere to its femur via point cut the front of the shaft (most of the 247 of
    # 3000 explorer poses more than 2 mm inside the femur). A sphere on the shaft axis stands
    # for the vasti there: at the level where sartorius's straight line passes nearest the
    # shaft axis at SARTORIUS_POSE (the middle of the poses where it cut the shaft), its
    # radius the shaft's largest distance from the axis within 1 cm of that level on
    # sartorius's side (from the axis toward its line at the neutral pose, where it passes
    # nearest) + QUAD_BED, the vasti it lies on. A cylinder along the shaft (its first form)
    # kept more poses clear, but sartorius's own origin, which deep flexion brings within 16 mm
    # of the shaft axis in front of the upper femur, came into it, and the hip moment arm then
    # fell by up to 5.6 mm a degree at 118-122 deg in the sagittal plane; the sphere ends below
    # the origin's reach. It goes after the head sphere, on the same segment. Left: the line
    # still cuts the upper femur with the hip extended and turned inward, where a surface would
    # have to stand where the origin comes in deep flexion, and where the bones overlap.
    # sartorius's line as the data holds it after this run (``sartorius``: (body, position) of
    # each point, from ``main``)
    origin = sartorius[0][1] - hip_c  # femur frame at the neutral pose
    via = next(p for body, p in sartorius if body == "femur_r")
    steps = np.linspace(0.0, 1.0, 2001)[:, None]

    def nearest(start: np.ndarray) -> np.ndarray:
        """The point of the straight line start -> via nearest the shaft axis (seen along it)."""
        pts = start + steps * (via - start)
        rad = (pts - c_shaft) - np.outer((pts - c_shaft) @ shaft_axis, shaft_axis)
        return pts[np.argmin(np.linalg.norm(rad, axis=1))]

    near = nearest(origin) - c_shaft
    sart_side = near - (near @ shaft_axis) * shaft_axis
    sart_side /= np.linalg.norm(sart_side)
    flex, rot = np.radians(SARTORIUS_POSE)
    turn = np.array([[np.cos(flex), -np.sin(flex), 0.0], [np.sin(flex), np.cos(flex), 0.0],
                     [0.0, 0.0, 1.0]]) @ np.array([[np.cos(rot), 0.0, np.sin(rot)],
                                                   [0.0, 1.0, 0.0],
                                                   [-np.sin(rot), 0.0, np.cos(rot)]])  # fmt: skip
    level = float((nearest(turn.T @ origin) - c_shaft) @ shaft_axis)  # along the axis
    centre = c_shaft + level * shaft_axis
    rel = fv - centre
    along = rel @ shaft_axis
    rel = rel[np.abs(along) < 0.01] - np.outer(along[np.abs(along) < 0.01], shaft_axis)
    r_vasti = float(np.linalg.norm(rel[rel @ sart_side >= 0.0], axis=1).max()) + QUAD_BED
    out += _wrap(
        "vasti_mid_thigh_r",
        "femur_r",
        "sphere",
        centre,
        r_vasti,
        shaft_axis,
        "The vasti over the front of the femoral shaft where sartorius crosses it with the hip "
        "flexed: a sphere on the shaft's axis, the shaft's largest radius on sartorius's side "
        "there + 8 mm, passed in front and medially. Sartorius lies on the quadriceps, not on "
        "the bone, and cannot cut through the shaft when the flexed hip turns inward.",
        side=sart_side,
    )
    # With the hip extended, abducted and turned inward the femur sees the anterior superior
    # iliac spine above and behind the greater trochanter, and sartorius's line to its femur
    # via point ran through the trochanter, the base of the neck and the upper shaft (1.75% of
    # the off-plane test's poses more than 2 mm inside the femur, up to 13.9 mm). A sphere in
    # the base of the trochanter (SARTORIUS_TROCHANTER: its centre, a 5 mm grid's best for
    # those cuts over 3000 explorer poses, seeds 0 and 5), 1 mm clear of the femoral head
    # sphere (QF_HEAD_GAP, as the quadratus femoris bed: overlapping spheres make a crease that
    # the path jumps over, session 18), which leaves it 2.9 mm clear of every sagittal
    # sartorius path (knee 0 and 90): the middle of sartorius's three surfaces, passed on its
    # anterolateral side (SARTORIUS_TROCHANTER_SIDE).
    centre = np.asarray(SARTORIUS_TROCHANTER, float)
    out += _wrap(
        "greater_trochanter_anterior_r",
        "femur_r",
        "sphere",
        centre,
        float(np.linalg.norm(centre)) - head_radius - QF_HEAD_GAP,
        [0.0, 1.0, 0.0],
        "Front of the greater trochanter and the base of the neck under sartorius: a sphere "
        "in the trochanter's base, 1 mm clear of the femoral head sphere, passed on its "
        "anterolateral side between the head and the mid-thigh vasti. With the hip extended, "
        "abducted and turned inward the anterior superior iliac spine stands above and behind "
        "the trochanter, and sartorius cannot cut through it; the sagittal paths stay clear "
        "of it.",
        side=SARTORIUS_TROCHANTER_SIDE,
    )
    # The trochlea, which the patella and the quadriceps tendon run over, is close to a circle
    # about the epicondyles' midpoint (the groove lies 38-41 mm from it, from 30 deg above its
    # front to 45 deg below), so its cylinder stands there.
    distal = fv[np.abs(fv[:, 1] - knee[1]) < 0.02]
    rk = float(np.max(distal[:, 0] - knee[0]))
    out += _wrap(
        "distal_femur_anterior_r",
        "femur_r",
        "cylinder",
        knee,
        rk,
        [0.0, 0.0, 1.0],
        "Distal femur about the epicondyles' midpoint; radius to the anterior trochlea.",
        side=[1.0, 0, 0],
    )
    # The posterior condyles are close to circles about the knee's flexion axis
    # (derive_knee_axis.py), so the three cylinders behind the knee, which the hamstrings and
    # gracilis pass over, stand on that axis.
    from derive_knee_axis import knee_axis

    axis = knee_axis(knee)
    distal = fv[np.abs(fv[:, 1] - axis[1]) < 0.02]
    rp = float(np.max(axis[0] - distal[:, 0]))
    out += _wrap(
        "distal_femur_posterior_r",
        "femur_r",
        "cylinder",
        axis,
        rp,
        [0.0, 0.0, 1.0],
        "Distal femur about the knee axis; radius to the back of the condyles.",
        side=[-1.0, 0, 0],
    )
    # Gracilis runs behind the medial condyle, not the intercondylar fossa: radius to the medial
    # condyle's farthest posterior point from the knee axis, plus 3 mm.
    med = distal[(distal[:, 2] < axis[2]) & (distal[:, 0] < axis[0])]
    rm = float(np.max(np.linalg.norm((med - axis)[:, :2], axis=1))) + 0.003
    out += _wrap(
        "distal_femur_medial_r",
        "femur_r",
        "cylinder",
        axis,
        rm,
        [0.0, 0.0, 1.0],
        "Distal femur about the knee axis; radius to the back of the medial condyle + 3 mm.",
        side=[-1.0, 0, 0],
    )
    # Semimembranosus inserts on the back of the medial tibial condyle, below the medial femoral
    # condyle's posteroinferior bulge, which reaches farther from the knee axis than the back of
    # the condyles straight behind it: radius to the medial condyle's farthest posterior point.
    rpm = float(np.max(np.linalg.norm((med - axis)[:, :2], axis=1)))
    out += _wrap(
        "distal_femur_posteromedial_r",
        "femur_r",
        "cylinder",
        axis,
        rpm,
        [0.0, 0.0, 1.0],
        "Distal femur about the knee axis; radius to the medial condyle's farthest posterior "
        "point.",
        side=[-1.0, 0, 0],
    )
    head_sphere = {
        "posterior": ([-1.0, 0, 0], "behind: the hamstrings' proximal tendons, piriformis and "
                      "gluteus medius's posterior part cannot cut through the head at deep "
                      "flexion or with the thigh turned outward."),
        "anterior": ([1.0, 0, 0], "in front: sartorius crosses the front of the hip, and "
                     "tensor fasciae latae's tract passes it between the greater trochanter and "
                     "the shaft; neither can cut through the head in extension."),
    }  # fmt: skip
    for where, (side, why) in head_sphere.items():
        out += _wrap(
            f"femoral_head_{where}_r",
            "femur_r",
            "sphere",
            np.zeros(3),
            head_radius,
            [0.0, 0, 1.0],
            f"Femoral head and capsule (fitted head radius + 4 mm) as a sphere, passed {why}",
            side=side,
        )
    return header, _split_wraps("\n".join(out) + "\n")


# Quadratus femoris between the hamstring tendons and the back of the proximal femur: the
# quadratus femoris space (the narrowest gap it passes, from the hamstring tendons to the lesser
# trochanter) is 18.8 +- 4.8 mm in controls and 5.3 +- 1.8 mm where it is squeezed in
# ischiofemoral impingement (Barros et al. 2019, Radiol Bras 52:237-241); the deep flexion with
# abduction and external rotation where the surface engages squeezes it, so the smaller, 5 mm.
QF_BED = 0.005
QF_BELOW = 0.015  # the surface reaches this far below the lesser trochanter's apex
QF_TOP = -0.030  # and up to this height (femur frame: 30 mm below the hip centre, under the neck)
QF_MEDIAL = 0.005  # and this far medial of the lesser trochanter's apex
QF_FACING = np.cos(np.radians(45.0))  # its vertices face backward: within 45 deg of posterior
# The bed's radius: a sphere is wrapped the shorter way round, so a hamstring line that crosses
# the back of the femur in front of the bed's centre goes round its front, and on through the
# femoral shaft (biceps femoris 10.6 mm inside it at 130 deg of flexion, 30 deg of abduction,
# 32 deg of external rotation), where its hip moment arms step by up to 30 mm a degree. The
# larger the radius, the further forward the fitted centre (the surface stays QF_BED off the
# bone): with the old rule's 30 mm (centre 9 mm behind the head centre's plane) the hip flexion
# moment arms of biceps femoris, semitendinosus and semimembranosus jumped by more than 2 mm at
# 880, 290 and 0 of the 35880 one-degree steps of a grid over the explorer's corner (flexion
# 118-130, abduction 18-30, external rotation 22-40 deg, knee 0, 45, 90, 140 deg), with 36 mm
# at 172, 68 and 0. threewrap.resolve_middle then continues those paths from behind, and the
# further forward the centre, the further that path behind persists beyond the explorer's
# ranges before it folds into the one in front and the length steps: with 30 mm from 2 deg
# beyond them (biceps femoris stepping by up to 15.3 mm, 5.4 mm in the whole-range test), with
# 36 mm from 7 deg (one-degree grid of flexion 110-140, abduction 15-45, external rotation
# 15-45, knee 0-140 deg). Larger radii fit the bone worse and reach the ischial origin with the
# hip extended, adducted and turned outward (42 mm: moment arms stepping by up to 8 mm a degree
# there).
QF_RADIUS = 0.036
QF_HEAD_GAP = 0.001  # the bed stays this far clear of the femoral head sphere (no crease)


def _quadratus_bed(
    fv: np.ndarray, faces: np.ndarray, lesser_trochanter: np.ndarray, head: float
) -> tuple[np.ndarray, float]:
    """The quadratus femoris bed in the femur frame (origin at the head centre): centre and
    radius. Rule: the femur vertices from QF_BELOW below the lesser trochanter's apex up to
    QF_TOP, lateral of QF_MEDIAL medial of the apex, whose outward normal lies within 45 deg of
    straight back (the back of the proximal femur below the neck: the intertrochanteric crest
    with the quadrate tubercle, the back of the lesser trochanter and the base of the greater);
    the radius QF_RADIUS (its source there), and the centre whose sphere of radius
    QF_RADIUS - QF_BED fits them best (least squares of their distances from its surface) with
    the bed at least QF_HEAD_GAP clear of the femoral head sphere (``head``, centred on the hip
    centre), so the bed stands QF_BED off the bone on average (the constraint holds it down and
    out, away from the head). Where the two spheres overlapped (the best fit with a free radius,
    38.7 + 5 mm, reaches 11 mm into the head sphere) a path over the crease between them had
    two ways over the back of the neck and jumped between them, by up to 4 mm in length, at
    137 deg of flexion; the radius was first the largest whole millimetre whose unconstrained
    fit stayed clear (30 mm). A sphere, not a roller, because its rounded edge lets a
    line come onto it from beside the bone without a step (tried first: a roller about the
    medio-lateral axis, counted only lateral of the lesser trochanter so that it stays clear of
    the sagittal paths medial of it, stepped the lines' lengths by up to 8 mm a degree where
    they crossed that edge; nor a roller tilted about the femur's long axis so that its medial
    reach clears the sagittal paths, tried with QF_RADIUS: a straight roller cannot follow the
    back of the bone and recede fast enough medially, and its far reach takes in the ischial
    origin with the hip extended and turned inward)."""
    from scipy.optimize import minimize

    normals = trimesh.Trimesh(fv, faces, process=False).vertex_normals
    sel = ((fv[:, 1] <= QF_TOP) & (fv[:, 1] >= lesser_trochanter[1] - QF_BELOW)
           & (fv[:, 2] >= lesser_trochanter[2] - QF_MEDIAL) & (normals[:, 0] < -QF_FACING))  # fmt: skip
    pts = fv[sel]

    radius, inner = QF_RADIUS, QF_RADIUS - QF_BED
    fit = minimize(lambda c: np.sum((np.linalg.norm(pts - c, axis=1) - inner) ** 2),
                   pts.mean(axis=0) + np.array([inner, 0.0, 0.0]), method="SLSQP",
                   constraints=[{"type": "ineq",
                                 "fun": lambda c: np.linalg.norm(c) - head - radius - QF_HEAD_GAP}],
                   options={"ftol": 1e-15, "maxiter": 1000})  # fmt: skip
    centre = fit.x
    res = np.linalg.norm(pts - centre, axis=1) - inner
    print(f"quadratus femoris bed: {len(pts)} vertices, radius {1000 * radius:.0f} mm, centre "
          f"{np.round(1000 * centre, 1)} mm, {1000 * (np.linalg.norm(centre) - head - radius):.1f} "
          f"mm clear of the head sphere; bone rms {1000 * np.sqrt(np.mean(res**2)):.1f} mm from "
          f"{1000 * (radius - QF_BED):.0f} mm, {1000 * res.max():.1f} mm the most outside")  # fmt: skip
    return centre, float(radius)



# sartorius's mid-thigh sphere: the level where its line passes nearest the shaft axis with the
# hip flexed 90 deg and turned 30 deg inward (degrees: flexion, internal rotation), the middle
# of the explorer poses where it cut the shaft (flexion 60-125 deg, rotation 10-40 deg inward)
SARTORIUS_POSE = (90.0, 30.0)
# sartorius's trochanter sphere (femur frame, metres): its centre, 55 mm below the head
# centre, 30 mm lateral and 10 mm behind it, in the base of the greater trochanter. Picked in
# session 29 from a grid (x -20..10, y -85..-40, z 15..45 mm, 10-15 mm apart, then 5 mm round
# the best) by the cuts of the off-plane test's poses, and checked on 3000 other explorer
# poses (seeds 0 and 5, bone contact left out): 51 / 52 of them more than 2 mm inside the
# femur, up to 17 mm, before; 4 / 3, up to 4.6 mm, after. Its radius follows from the head
# sphere's (_wraps).
SARTORIUS_TROCHANTER = (-0.010, -0.055, 0.030)
# The side it is passed on, anterolateral: 60 deg from straight ahead toward lateral, where the
# anterior superior iliac spine stands in the poses it cut. The three-surface solve continues a
# path wrapped on the sphere's far side from there (threewrap._continue_behind): a sphere has
# no sides, and where the spine comes behind the head's centre (flexion below -20 deg with
# abduction and inward rotation) both ways round are taut; continued from straight ahead
# or 45 deg lateral of it the path still flipped behind in places, and sartorius's length
# stepped by up to 3.7 / 4.2 mm a degree (test_off_plane_steps_keep_lengths_continuous).
SARTORIUS_TROCHANTER_SIDE = (0.5, 0.0, float(np.sqrt(0.75)))
# the greater trochanter's posterior roller (lower gluteus maximus): its clearance from the lower
# line's sagittal path, so that the sagittal plane is unchanged
GT_ROLLER_GAP = 0.0003
HEAD_CAPSULE = 0.004  # the femoral head surfaces' clearance over the fitted head (capsule)
NECK_CAPSULE = HEAD_CAPSULE  # the neck surface's clearance, as the femoral head's
NECK_ARC = (-135.0, -45.0)  # degrees about the neck axis from anterior (+: superior): its underside


def _neck_section(
    distance, axis: np.ndarray, d: float, half: float = 0.035, step: float = 0.0003
) -> tuple[float, np.ndarray]:  # type: ignore[no-untyped-def]
    """Area and centroid of the femur's cross-section perpendicular to ``axis`` at ``d`` from
    the head centre (the part around the axis), from the distance grid."""
    a = np.array([1.0, 0.0, 0.0]) - axis[0] * axis
    a /= np.linalg.norm(a)
    b = np.cross(axis, a)
    g = np.arange(-half, half + 1e-12, step)
    u, v = np.meshgrid(g, g, indexing="ij")
    pts = d * axis + u[..., None] * a + v[..., None] * b
    label, _ = ndimage.label(distance(pts.reshape(-1, 3)).reshape(u.shape) < 0)
    mask = label == label[len(g) // 2, len(g) // 2]
    if not label[len(g) // 2, len(g) // 2]:
        return np.inf, d * axis
    return float(mask.sum() * step * step), d * axis + a * u[mask].mean() + b * v[mask].mean()


def _femoral_neck(
    grid: tuple[np.ndarray, float, np.ndarray], head_r: float, lesser_trochanter: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """The femoral neck cylinder in the femur frame (origin at the head centre): centre, axis,
    radius and side (module docstring). Rule:
    - neck axis: from the head centre through the centroid of the neck's narrowest cross-section
      (sections across the axis every mm from 20 to 50 mm, the axis re-aimed at the narrowest
      one's centroid until it moves less than 0.05 deg);
    - the neck's underside: the outermost bone point from that axis in the directions NECK_ARC
      about it (within 45 deg of straight down, where the iliopsoas tendon runs to the lesser
      trochanter, 129 deg below anterior), every 5 deg and every mm from the head-neck junction
      (where the head sphere meets a neck of the narrowest section's area) to 5 mm before the
      lesser trochanter along the axis;
    - the cylinder that fits that surface best (least squares of the points' distances from its
      surface; axis direction, position and radius free), its radius + NECK_CAPSULE. A
      cylinder enclosing the neck has to stand off its concave waist (13-18 mm over the
      underside, for the tightest one through the head centre); the fitted one follows the
      underside (3-5 mm off it), whose straightest direction runs from the neck toward the
      shaft (into the calcar above the lesser trochanter), so its axis turns that way;
    - centre: the point of its axis nearest the head centre (the surface counts beyond it along
      the axis, away from the head: otherwise it would reach through the head into the pelvis);
      side: straight down across the neck (the middle of NECK_ARC) across the cylinder's axis.
    """
    origin, pitch, values = grid

    def distance(p: np.ndarray) -> np.ndarray:
        return ndimage.map_coordinates(values, ((p - origin) / pitch).T, order=1, mode="constant",
                                       cval=1.0)  # fmt: skip

    from scipy.optimize import least_squares

    axis = np.array([0.0, -1.0, 1.0]) / np.sqrt(2.0)
    for _ in range(20):
        sections = [(*_neck_section(distance, axis, d), d) for d in np.arange(0.02, 0.0505, 0.001)]
        area, centroid, _ = min(sections, key=lambda x: x[0])
        new = centroid / np.linalg.norm(centroid)
        turn = np.degrees(np.arccos(min(1.0, float(new @ axis))))
        axis = new
        if turn < 0.05:
            break
    junction = np.sqrt(head_r**2 - area / np.pi)
    end = float(lesser_trochanter @ axis) - 0.005
    a = np.array([1.0, 0.0, 0.0]) - axis[0] * axis
    a /= np.linalg.norm(a)
    b = np.cross(axis, a)
    reach = np.arange(0.0, 0.06, 0.0002)
    surface = []
    for d in np.arange(junction, end + 1e-9, 0.001):
        for t in np.radians(np.arange(NECK_ARC[0], NECK_ARC[1] + 1e-9, 5.0)):
            u = np.cos(t) * a + np.sin(t) * b
            inside = distance(d * axis + reach[:, None] * u) < 0
            k = int(np.argmin(inside)) if not inside.all() else len(reach)
            surface.append(d * axis + reach[max(k - 1, 0)] * u)
    pts = np.array(surface)

    def cylinder(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A point of the axis (in the plane across the neck axis through the head centre) and
        the axis direction."""
        m = axis + x[0] * a + x[1] * b
        return x[2] * a + x[3] * b, m / np.linalg.norm(m)

    def residual(x: np.ndarray) -> np.ndarray:
        c, m = cylinder(x)
        q = pts - c
        return np.linalg.norm(q - (q @ m)[:, None] * m, axis=1) - x[4]

    fit = least_squares(residual, np.array([0.0, 0.0, 0.0, 0.0, 0.02]),
                        x_scale=np.array([1.0, 1.0, 0.01, 0.01, 0.01]))  # fmt: skip
    c, m = cylinder(fit.x)
    centre = c - (c @ m) * m  # nearest the head centre (the origin)
    t_mid = np.radians(0.5 * (NECK_ARC[0] + NECK_ARC[1]))
    side = np.cos(t_mid) * a + np.sin(t_mid) * b
    side -= (side @ m) * m
    res = residual(fit.x)
    print(f"femoral neck: axis {np.round(axis, 4)} (narrowest section {1e6 * area:.0f} mm2), "
          f"underside {1000 * junction:.1f}-{1000 * end:.1f} mm along it; fitted cylinder axis "
          f"{np.round(m, 4)}, {np.degrees(np.arccos(m @ axis)):.1f} deg from it, radius "
          f"{1000 * fit.x[4]:.2f} mm (rms {1000 * np.sqrt(np.mean(res**2)):.2f} mm)")  # fmt: skip
    return centre, m, float(fit.x[4]) + NECK_CAPSULE, side / np.linalg.norm(side)


# the neck sling's side: below and behind the neck (femur frame: down and back), across its axis
SLING_SIDE = (-1.0, -1.0, 0.0)


def _neck_sling(
    neck_axis: np.ndarray, head: float, insertion: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """The femoral neck sling (obturator externus) in the femur frame (origin at the head
    centre): centre, axis, radius and side. Rule: the cylinder about ``neck_axis``, the femoral
    neck cylinder's fitted axis (_femoral_neck: the straightest direction of the neck's
    underside, from the neck toward the calcar), through the head centre, with the femoral head
    sphere's radius ``head`` (head + 4 mm capsule), so that it holds the head and its capsule
    whole and, below them, the underside and back of the neck; passed on SLING_SIDE, below and
    behind, across its axis (the axis runs mostly down the femur, so the side left is mostly
    behind). Nothing in it is fitted to the muscle. Its ends must lie outside it (an end inside
    shrinks a wrap to that end's distance from the axis): the insertion's distance from the
    axis is printed (30.7 mm on this femur, 1.4 mm beyond the radius), and a test keeps the
    origin outside over the explorer's ranges (31.3 mm at the least).

    Why this axis and not the neck's own (head centre to the narrowest section's centroid): the
    trochanteric fossa lies 20.8 mm from the neck's own axis, inside any cylinder about it that
    holds the head, and an end inside shrinks the wrap to that end's distance, so the line cut
    the back of the head; turned 28.5 deg toward the calcar, the fitted axis has the fossa
    30.7 mm from it, just outside the head's radius, and its medial reach points away from
    where the hip's flexion and abduction carry the origin (ROTATORS has the numbers)."""
    axis = np.asarray(neck_axis, float) / np.linalg.norm(neck_axis)
    side = np.asarray(SLING_SIDE, float)
    side -= (side @ axis) * axis
    if insertion is not None:
        off = insertion - (insertion @ axis) * axis
        print(f"femoral neck sling: axis {np.round(axis, 4)}, radius {1000 * head:.2f} mm; "
              f"obturator externus's insertion {1000 * np.linalg.norm(off):.1f} mm from the "
              f"axis")  # fmt: skip
    return np.zeros(3), axis, float(head), side / np.linalg.norm(side)


def _wrap(wid, body, kind, centre, radius, axis, note, side=None) -> list[str]:  # type: ignore[no-untyped-def]
    rows = ["", "[[wrap]]", f'id = "{wid}"', f'body = "{body}"', f'type = "{kind}"',
            f"centre = {_fmt(np.asarray(centre))}", f"radius = {radius:.5f}"]  # fmt: skip
    if side is not None:
        rows.append(f"side = {_fmt(np.asarray(side, float))}")
    if axis is not None:
        rows.append(f"axis = {_fmt(np.asarray(axis))}")
    rows.append(f'note = "{note}"')
    return rows


if __name__ == "__main__":
    main()
