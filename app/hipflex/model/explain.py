"""The "why", in words: statements driven by thresholds on computed quantities, never by angles."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from hipflex.model.activity import needs_flexors
from hipflex.model.contact import angle_words, rounded_down, turned_words
from hipflex.model.lift import LiftCapacity, lift_capacity, pose_moments
from hipflex.model.limits import drive_text

if TYPE_CHECKING:
    from hipflex.model.hipmodel import HipModel

Array = NDArray[np.float64]
SLACK = 0.0  # normalised fibre length at or below which the fibres would have to be <= 0 long
OPTIMAL = 1.0  # normalised fibre length of peak active force: weak below it "too short", above it
# "stretched too far"
WEAK_FORCE_LENGTH = 0.3  # active force-length factor below which a muscle "can give little force"
KNEE_CONTRAST_STEP = 5.0  # deg: grid over the knee's range on which a two-joint flexor's most
# telling knee posture is sought (readable angles; the choice itself is by force-length factor)
KNEE_CONTRAST_CHANGE = 0.2  # force-length factor change that makes the knee contrast worth saying
NAMED_SHARE = 0.05  # other flexors named in the share statement from this share of the capacity
NAMED_HELD = 0.02  # a muscle working against flexion in the hold task is named from this share
SHARE_CHANGE = 0.02  # iliopsoas's free-lift share this far from its summed share is "more"/"less"
SIDE_SHARE = 0.10  # a flexor whose capacity share is at least this ...
SIDE_RATIO = 2.0  # ... and whose rotation or adduction lever is this many times its flexion lever
LEVER_CHANGE = 0.10  # iliopsoas's flexion lever this much longer (or shorter) than standing is said
SIDE_WORDS = {  # (quantity, sign): what a positive or negative moment arm does to the thigh
    ("hip_rotation", 1): ("turn", "the thigh inward"),
    ("hip_rotation", -1): ("turn", "the thigh outward"),
    ("hip_adduction", 1): ("pull", "the thigh toward the midline"),
    ("hip_adduction", -1): ("pull", "the thigh out to the side"),
}  # fmt: skip

CAVEATS = [
    "Model estimate from one body (Visible Human Male) with straight-line and wrapped muscle paths.",
    "Rigid tendons, full activation, no passive force; tendon slack lengths re-derived for these bones.",
    "Hold task: upright pelvis; the hip's flexion, adduction and rotation moments balanced by the"
    " modelled muscles alone (no ligaments or capsule), the knee's not; segment data from de Leva"
    " 1996; body mass and height scale the leg's weight, not muscle strength or bone size.",
]
# the hold task's caveat when the model balances hip flexion alone (hold_balance="flexion")
FLEXION_HOLD_CAVEAT = ("Hold task: upright pelvis, only the hip-flexion moment balanced; segment"
                       " data from de Leva 1996; body mass and height scale the leg's weight, not"
                       " muscle strength or bone size.")
# said when the task accelerates the leg: what a held pose with an added moment leaves out
DRIVE_CAVEAT = ("Knee drive: the leg's inertia times the acceleration is added at a held pose;"
                " muscles lose force as they shorten faster (force-velocity), which is left out,"
                " so a fast drive is harder than shown.")


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _mid(name: str) -> str:
    """A display name inside a sentence: "Gluteus medius" -> "gluteus medius" (an acronym such
    as "TFL" stays as it is)."""
    return name if name[1:2].isupper() else name[:1].lower() + name[1:]


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _sentence(names: list[str]) -> list[str]:
    """Names listed at the start of a sentence: the first keeps its capital."""
    return names[:1] + [_mid(n) for n in names[1:]]


def _mm(lengths: list[float]) -> str:
    """Lever lengths in words: "53 mm", "53 and 51 mm"."""
    return _and([f"{1000 * abs(x):.0f}" for x in lengths]) + " mm"


def contrast_knees(model: HipModel) -> list[float]:
    """Knee angles over the knee's joint range, every ``KNEE_CONTRAST_STEP`` deg and both ends."""
    lo, hi = model.ctx.skeleton.ranges["knee_flexion"]
    return sorted({*np.arange(lo, hi, KNEE_CONTRAST_STEP).tolist(), float(hi)})


def _knee_words(knee: float) -> str:
    """"straight" only for a fully straight knee (0 deg, the end of its range)."""
    return "straight" if knee <= 0 else f"at {knee + 0.0:g} deg"


def moment_words(moment: float) -> str:
    """A moment in words, with a decimal where whole newton-metres would hide it."""
    return f"{moment:.1f} N m" if abs(moment) < 9.95 else f"{moment:.0f} N m"


def _knee_contrast(name: str, muscle: str, knee: float, other_knee: float, norm: Array,
                   fl: Array) -> dict[str, object]:  # fmt: skip
    """A two-joint flexor at this pose against the same hip angle at the contrast knee angle:
    ``norm`` and ``fl`` hold (this pose, contrast pose)."""
    knee_words = _knee_words(other_knee)
    there = (f"would be slack (normalised fibre length {norm[1]:.2f})" if norm[1] <= SLACK
             else f"would have its fibres at {norm[1]:.2f} of optimal")  # fmt: skip
    bending_helps = (fl[1] > fl[0]) == (other_knee > knee)
    subject = "bending the knee" if other_knee > knee else "the bent knee"
    why = f"{subject} {'keeps it useful' if bending_helps else 'costs it force'}"
    return {
        "text": f"With the knee {knee_words} instead, {_mid(name)} {there} and would give "
                f"{_pct(fl[1])} of its peak force (now {_pct(fl[0])}): {why}.",
        "quantity": "force_length_factor", "muscles": [muscle], "value": float(fl[1]),
    }  # fmt: skip


def contact_statement(model: HipModel, hip_flexion: float, hip_adduction: float,
                      hip_rotation: float) -> dict[str, object] | None:  # fmt: skip
    """Bone meeting bone at this pose, in words, or None where the bones are apart: how deep,
    where, what clinicians call it, and how far the hip flexes (or extends) clear of it at this
    adduction and rotation."""
    contact = model.bone_contact(hip_flexion, hip_adduction, hip_rotation)
    if not contact.touching[0]:
        return None
    femur, pelvis = contact.femur_region[0], contact.pelvis_region[0]
    depth = 1000 * float(contact.overlap[0])
    text = (f"Bone meets bone here: in this model {femur.name} runs {depth:.0f} mm into "
            f"{pelvis.name}. A real hip stops before this pose"
            + (f"; clinicians call such contact {pelvis.note}" if pelvis.note else "")
            + ". Muscle paths near the contact are less sound.")  # fmt: skip
    free = model.free_flexion(hip_adduction, hip_rotation)
    held = f"With the hip {angle_words(hip_adduction, hip_rotation)}"
    if free.highest is None:
        text += f" {held}, the bones meet even at 0 deg of flexion."
    else:
        flexing = hip_flexion > 0
        limit = free.highest if flexing else free.lowest
        assert limit is not None
        motion = "flexion" if flexing else "extension"
        text += (f" {held}, {motion} is clear of bone contact up to "
                 f"{abs(rounded_down(limit)):g} deg.")  # fmt: skip
    return {"text": text, "quantity": "bone_overlap", "muscles": [],
            "value": float(contact.overlap[0])}  # fmt: skip


def _iliopsoas_lever(model: HipModel, ilio: list[int], ma: Array, fl: Array,
                     names: dict[str, str]) -> dict[str, object] | None:  # fmt: skip
    """Why iliopsoas still lifts the thigh here: how its flexion lever compares with standing's
    (rows 0 and 1 of the sweep) and how much force its fibres still give. Said only when the
    lever has changed by LEVER_CHANGE, and only while both parts still flex the hip."""
    here, standing = ma[0, ilio], ma[1, ilio]
    if not ilio or (here <= 0.005).any() or (standing <= 0.005).any():
        return None
    ratio = float(here.sum() / standing.sum())
    if abs(ratio - 1.0) < LEVER_CHANGE:
        return None
    parts = [names[model.muscles[j]].lower() for j in ilio]
    grown = ratio > 1.0
    why = (" (its tendon turns over the front of the pelvis, at the brim, which holds it in "
           "front of the hip as the thigh rises)" if grown else "")  # fmt: skip
    return {
        "text": f"Iliopsoas's lever has {'grown' if grown else 'shrunk'} since standing{why}: "
                f"{_and([f'{p} {1000 * a:.0f} mm' for p, a in zip(parts, here, strict=True)])} "
                f"here against {_mm([float(a) for a in standing])} standing. Its fibres give "
                f"{_and([_pct(float(fl[0, j])) for j in ilio])} of their peak force at this "
                "length.",
        "quantity": "moment_arm_hip_flexion", "muscles": [model.muscles[j] for j in ilio],
        "value": ratio,
    }  # fmt: skip


def _plural_subject(names: list[str]) -> bool:
    """Whether a list of muscle names takes a plural verb ("obturator internus and gemelli")."""
    return len(names) > 1 or " and " in names[0]


def _lift_statement(lift: LiftCapacity, summed_share: float) -> dict[str, object] | None:
    """What the flexors can give when their turning and sideways moments must cancel, as in a
    free knee lift (hipflex.model.lift), and iliopsoas's share of that (``lift`` is for the
    group iliacus and psoas)."""
    if lift.moment <= 0:
        return None
    low, high = lift.share_low, lift.share_high
    share = _pct(low) if _pct(low) == _pct(high) else f"{_pct(low)[:-1]}-{_pct(high)}"
    change = ("more than" if low > summed_share + SHARE_CHANGE else
              "less than" if high < summed_share - SHARE_CHANGE else "about as")  # fmt: skip
    return {
        "text": "In a free knee lift nothing holds the thigh from turning or swinging sideways, "
                f"so those moments must cancel: that leaves at most {lift.moment:.0f} N m of hip "
                f"flexion, {share} of it from iliopsoas ({change} in the sum above).",
        "quantity": "lift_capacity", "muscles": ["iliacus", "psoas"], "value": low,
    }  # fmt: skip


def explain(model: HipModel, hip_flexion: float, knee_flexion: float = 0.0,
            hip_acceleration: float = 0.0, hip_adduction: float = 0.0,
            hip_rotation: float = 0.0) -> list[dict[str, object]]:  # fmt: skip
    """Statements, each ``{"text", "quantity", "muscles", "value"}``, plus the caveats last.

    Every statement is about the whole pose (adduction and rotation too); "standing" means the
    hip at 0 in all three. Where bone meets bone, that comes first.
    """
    names = {m: model.ctx.anatomy.muscles[m].display_name for m in model.muscles}
    # The pose itself, standing (the hip neutral) at this knee, and this hip pose over the
    # knee's range (where a two-joint flexor's most telling knee posture is sought).
    knees = contrast_knees(model)

    def rows(here: float) -> list[float]:  # a hip angle at the pose, standing, the contrasts
        return [here, 0.0] + [here] * len(knees)

    res = model.sweep(rows(hip_flexion), knee_flexion=[knee_flexion, knee_flexion, *knees],
                      hip_adduction=rows(hip_adduction), hip_rotation=rows(hip_rotation),
                      hip_acceleration=hip_acceleration)  # fmt: skip
    ma = res["moment_arm_hip_flexion"]
    mm = res["max_moment_hip_flexion"]
    norm = res["norm_fiber_length"]
    fl = res["force_length_factor"]
    hip_words = (f"{hip_flexion + 0.0:g} deg hip flexion" if hip_flexion >= 0  # + 0.0: no "-0"
                 else f"{-hip_flexion:g} deg hip extension")  # fmt: skip
    off_plane = turned_words(hip_adduction, hip_rotation, ", the hip ", suffix=",")
    where = f"At {hip_words}{off_plane} with the knee {_knee_words(knee_flexion)}"
    out: list[dict[str, object]] = []
    contact = contact_statement(model, hip_flexion, hip_adduction, hip_rotation)
    if contact is not None:
        out.append(contact)

    capacity = np.clip(mm[0], 0, None)
    available = float(capacity.sum())
    parts = capacity / available if available > 0 else np.zeros_like(capacity)
    ilio = [model.muscles.index(m) for m in ("iliacus", "psoas") if m in model.muscles]
    share = float(parts[ilio].sum())
    others = [j for j in np.argsort(-parts) if j not in ilio and parts[j] >= NAMED_SHARE]
    rest = ", ".join(f"{_mid(names[model.muscles[j]])} {_pct(parts[j])}" for j in others)
    out.append({
        "text": f"{where}, iliopsoas supplies {_pct(share)} of the summed hip-flexion capacity "
                f"({available:.0f} N m: every flexor at full effort, its turning and sideways "
                "moments left aside)"
                + (f"; the rest comes mainly from {rest}." if rest else "."),
        "quantity": "max_moment_hip_flexion", "muscles": ["iliacus", "psoas"], "value": share,
    })  # fmt: skip
    lift = lift_capacity(pose_moments(res), ilio)
    lift_said = _lift_statement(lift, share)
    if lift_said is not None:
        out.append(lift_said)
    lever = _iliopsoas_lever(model, ilio, ma, fl, names)
    if lever is not None:
        out.append(lever)
    # flexors that mostly turn or swing the thigh (mean of their lines): one statement per action
    sided: dict[tuple[str, int], list[tuple[int, float]]] = {}
    for j in others:
        side = max(("hip_rotation", "hip_adduction"),
                   key=lambda c: abs(res[f"moment_arm_{c}"][0, j]))  # fmt: skip
        side_arm = float(res[f"moment_arm_{side}"][0, j])
        if parts[j] >= SIDE_SHARE and abs(side_arm) >= SIDE_RATIO * ma[0, j] > 0:
            sided.setdefault((side, 1 if side_arm > 0 else -1), []).append((int(j), side_arm))
    for (side, sign), group in sided.items():
        one = len(group) == 1
        js = [j for j, _ in group]
        verb, what = SIDE_WORDS[(side, sign)]
        out.append({
            "text": f"{_and(_sentence([names[model.muscles[j]] for j in js]))} "
                    f"{'gives' if one else 'give'} {_and([_pct(parts[j]) for j in js])} of that "
                    f"capacity, but {'it mainly' if one else 'they mainly'} "
                    f"{verb + 's' if one else verb} {what}: moment {'arm' if one else 'arms'} "
                    f"{_mm([a for _, a in group])} for that against "
                    f"{_mm([float(ma[0, j]) for j in js])} for flexion. In a free knee lift "
                    "other muscles must cancel that, so "
                    f"{'its share is an upper bound' if one else 'their shares are upper bounds'}.",
            "quantity": f"moment_arm_{side}", "muscles": [model.muscles[j] for j in js],
            "value": max((a for _, a in group), key=abs),
        })  # fmt: skip
    for j, m in enumerate(model.muscles):
        flexor_lever = ma[0, j] > 0.005
        if flexor_lever and norm[0, j] <= SLACK:
            out.append({
                "text": f"{names[m]} is slack: it still has a flexor lever ({1000 * ma[0, j]:.0f} mm) "
                        f"but its fibres would have to shorten below zero length "
                        f"(normalised fibre length {norm[0, j]:.2f}), so it gives no active force.",
                "quantity": "norm_fiber_length", "muscles": [m], "value": float(norm[0, j]),
            })  # fmt: skip
        elif flexor_lever and fl[0, j] < WEAK_FORCE_LENGTH:
            side = "is stretched too far" if norm[0, j] > OPTIMAL else "is too short"
            out.append({
                "text": f"{names[m]} {side} to pull hard: fibres at {norm[0, j]:.2f} of their "
                        f"optimal length give {_pct(fl[0, j])} of its peak force "
                        f"(moment arm {1000 * ma[0, j]:.0f} mm).",
                "quantity": "force_length_factor", "muscles": [m], "value": float(fl[0, j]),
            })  # fmt: skip
        crosses_knee = abs(res["moment_arm_knee_flexion"][0, j]) > 0.005
        if crosses_knee and ma[0, j] > 0.005:
            # the knee posture that changes this muscle's force most, here: the contrast that
            # says whether the knee matters (the first such angle, so a slack plateau reads
            # "straight")
            k = 2 + int(np.argmax(np.abs(fl[2:, j] - fl[0, j])))
            if abs(fl[k, j] - fl[0, j]) > KNEE_CONTRAST_CHANGE:
                out.append(_knee_contrast(names[m], m, knee_flexion, knees[k - 2],
                                          norm[[0, k], j], fl[[0, k], j]))  # fmt: skip
    # flexors standing that extend here: one statement, so a coach reads the group at once
    flipped = [j for j in range(len(model.muscles)) if ma[1, j] > 0.005 and ma[0, j] < -0.005]
    if flipped:
        one = len(flipped) == 1
        here = ", ".join(f"{1000 * ma[0, j]:.0f}" for j in flipped)
        standing = ", ".join(f"{1000 * ma[1, j]:+.0f}" for j in flipped)
        out.append({
            "text": f"{_and(_sentence([names[model.muscles[j]] for j in flipped]))} "
                    f"{'now extends' if one else 'now extend'} the hip (moment "
                    f"{'arm' if one else 'arms'} {here} mm; standing {standing} mm): "
                    f"{'its line has' if one else 'their lines have'} passed behind the hip "
                    "centre.",
            "quantity": "moment_arm_hip_flexion", "muscles": [model.muscles[j] for j in flipped],
            "value": float(min(ma[0, j] for j in flipped)),
        })  # fmt: skip
    req = float(res.required_moment[0])
    drive = drive_text(abs(hip_acceleration))
    task = ("Holding the leg here" if hip_acceleration == 0 else
            f"Driving the knee up from here at {drive}" if hip_acceleration > 0 else
            f"Accelerating the leg toward extension from here at {drive}")  # fmt: skip
    if not needs_flexors(req):
        behind = round(req, 1) < 0  # as printed: "-0.0" would not read as behind the hip
        out.append({
            "text": f"{task} needs no hip-flexion effort (required moment {moment_words(req)}): "
                    + ("the moment acts toward extension, so the extensors carry it and the "
                       "flexors can rest." if behind else
                       "the leg's weight hangs under the hip, so the flexors can rest."),
            "quantity": "activation", "muscles": [], "value": req,
        })  # fmt: skip
    elif res.feasible[0]:
        act = res["activation"][0]
        held = res["share"][0]
        top = int(np.argmax(held))
        # the solver loads each muscle by its own capacity, so the held share can differ from
        # the capacity share above: that difference is the answer to "which muscles work here"
        against = [j for j in np.argsort(held) if held[j] <= -NAMED_HELD]
        out.append({
            "text": f"{task} needs {moment_words(req)} of hip flexion; the flexors can give "
                    f"{available:.0f} N m. Iliopsoas carries {_pct(float(held[ilio].sum()))} of "
                    f"that moment; {_mid(names[model.muscles[top]])} the largest share "
                    f"({_pct(held[top])}, activation {act[top]:.2f})."
                    + (f" {_and(_sentence([names[model.muscles[j]] for j in against]))} "
                       f"{'work' if _plural_subject([names[model.muscles[j]] for j in against]) else 'works'} against flexion "
                       f"({_and([_pct(-held[j]) for j in against])} of it, activation "
                       f"{_and([f'{act[j]:.2f}' for j in against])}) to cancel the others' "
                       "turning and sideways moments." if against else ""),
            "quantity": "activation", "muscles": [model.muscles[top]], "value": req,
        })  # fmt: skip
    else:
        limit = model.highest_hold_angle(knee_flexion, hip_acceleration, hip_adduction,
                                         hip_rotation)  # fmt: skip
        short = (f"the flexors can give only {available:.0f} N m"
                 if model.hold_balance == "flexion" or available < req else
                 "the muscles cannot give it with the hip's turning and sideways moments "
                 f"balanced too (with none to hold, at most {lift.moment:.0f} N m)")  # fmt: skip
        out.append({
            "text": f"{task} needs {moment_words(req)} of hip flexion but {short}; "
                    + ("they cannot at any hip angle from 0 deg up." if limit is None
                       else f"the highest hip angle where they can is {limit:g} deg."),
            "quantity": "activation", "muscles": [], "value": req,
        })  # fmt: skip
    caveats = (CAVEATS if model.hold_balance == "hip" else [*CAVEATS[:-1], FLEXION_HOLD_CAVEAT])
    caveats = caveats + ([DRIVE_CAVEAT] if hip_acceleration != 0 else [])
    out += [{"text": c, "quantity": "caveat", "muscles": [], "value": None} for c in caveats]
    return out


def without_caveats(statements: list[dict[str, Any]], caveats: list[str]) -> list[dict[str, Any]]:
    """The statements other than caveats; new caveat texts are added to ``caveats`` (they are
    the same at every pose, so a page or a lesson says them once, at the end)."""
    for s in statements:
        if s["quantity"] == "caveat" and s["text"] not in caveats:
            caveats.append(str(s["text"]))
    return [s for s in statements if s["quantity"] != "caveat"]
