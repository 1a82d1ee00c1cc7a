"""Categorical vocabularies of the molecule presets (column names, cardinalities, value maps).

Every categorical column is an integer in ``[0, cardinality)``. Out-of-range values are clipped into
the last bucket ("other"), so a record never violates its :class:`~featurizers.schema.FeaturizerSpec`.

``harmony`` preset (rich):

=================  ====  =======================================================================
atom column        card  values
=================  ====  =======================================================================
``element``        120   atomic number Z (0 = dummy ``*``), 119 = Z >= 119
``degree``         7     heavy-atom neighbours 0..5, 6 = six or more
``formal_charge``  7     charge + 3 for -3..+3 (clipped)
``chirality``      4     RDKit ChiralType: unspecified, CW, CCW, 3 = any other tag
``num_hs``         5     total hydrogens 0..3, 4 = four or more
``hybridization``  9     RDKit HybridizationType value (UNSPECIFIED=0, S, SP, SP2, SP3, SP2D, SP3D, SP3D2, OTHER=8)
``aromatic``       2     0/1
``ring_size``      8     0 = not in a ring, else smallest SSSR ring size 3..8 -> 1..6, 7 = larger
=================  ====  =======================================================================

``x_feat`` = ``[standard atomic weight / 100]`` (isotope labels are ignored).

Bond columns: ``bond_type`` (5: single, double, triple, aromatic, other), ``conjugated`` (2),
``in_ring`` (2), ``stereo`` (8: RDKit BondStereo NONE, ANY, Z, E, CIS, TRANS, ATROPCW, ATROPCCW).

``hu`` preset (Hu et al. 2020, snap-stanford/pretrain-gnns ``loader.py``): atom ``atom_type`` with 120
slots (index = Z - 1 for Z in 1..118 as in their ``possible_atomic_num_list = range(1, 119)``; 118 = dummy
or unknown element, 119 = their mask token, never produced here) and ``chirality_tag`` with 4 slots (their
``possible_chirality_list``: unspecified, CW, CCW, other). Bond ``bond_type`` with 6 slots (single, double,
triple, aromatic as in ``possible_bonds``; 4 = their self-loop index, 5 = their mask index, both reserved and
never produced here; any other RDKit bond type maps to single) and ``bond_dir`` with 3 slots (NONE,
ENDUPRIGHT, ENDDOWNRIGHT; other directions map to NONE). No continuous features.
"""

from __future__ import annotations

HARMONY_ATOM_COLUMNS: tuple[tuple[str, int], ...] = (
    ("element", 120), ("degree", 7), ("formal_charge", 7), ("chirality", 4), ("num_hs", 5), ("hybridization", 9),
    ("aromatic", 2), ("ring_size", 8),
)
HARMONY_ATOM_FLOAT_COLUMNS: tuple[str, ...] = ("mass_div_100",)
HARMONY_BOND_COLUMNS: tuple[tuple[str, int], ...] = (("bond_type", 5), ("conjugated", 2), ("in_ring", 2), ("stereo", 8))

HU_ATOM_COLUMNS: tuple[tuple[str, int], ...] = (("atom_type", 120), ("chirality_tag", 4))
HU_BOND_COLUMNS: tuple[tuple[str, int], ...] = (("bond_type", 6), ("bond_dir", 3))

#: Harmony ``ring_size`` column: smallest ring size -> bucket (0 = not in a ring).
RING_SIZE_MIN = 3
RING_SIZE_MAX = 8

#: Harmony ``bond_type`` code of a bond that is not single, double, triple or aromatic.
BOND_OTHER = 4

#: Hu et al. atom type for a dummy or unknown element.
HU_UNKNOWN_ATOM = 118

#: RDKit HybridizationType integer values used by the fast path.
HYB_SP2, HYB_SP3 = 3, 4
