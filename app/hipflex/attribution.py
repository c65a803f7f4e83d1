"""Attribution of the anatomy sources, shipped with everything that shows or holds the meshes."""

ATTRIBUTION = """\
# Attribution for the anatomy sources

1. Human Reference Atlas, HuBMAP CCF 3D Reference Object Library: 3D Reference Organs VH_M_Pelvis and
   VH_M_Knee_L/R, v1.2, CC BY 4.0. Derived from the NLM Visible Human Male.
   https://github.com/hubmapconsortium/ccf-3d-reference-object-library
2. Andreassen TE, Hume DR, Hamilton LD, Walker KE, Higinbotham SE, Shelburne KB (2023).
   Three dimensional lower extremity musculoskeletal geometry of the Visible Human Female and Male.
   Scientific Data 10:34. doi:10.1038/s41597-022-01905-2. Dataset doi:10.56902/COB.vh.2022.0,
   Center for Orthopaedic Biomechanics, University of Denver, CC BY 4.0.
3. Remus R, Lipphaus A, Neumann M, Bender B (2021). Calibration and validation of a novel hybrid model
   of the lumbosacral spine in ArtiSynth - the passive structures. PLoS ONE 16(4):e0250456.
   Copyright (c) 2021 Robin Remus, BSD-3-Clause (keep its LICENSE with the meshes).
4. Muscle parameters: Rajagopal A, Dembia CL, DeMers MS, Delp DD, Hicks JL, Delp SL (2016). Full-body
   musculoskeletal model for muscle-driven simulation of human gait. IEEE TBME 63(10):2068-2079.
   Delp SL et al. (1990). IEEE TBME 37:757-767 (Gait2392 lineage).
The Visible Human Project images underlying 1-3 are courtesy of the U.S. National Library of Medicine.
State the changes made (units and frame conversion, registration, decimation, mirroring of the left
rectus femoris and sartorius to the right side).
"""
