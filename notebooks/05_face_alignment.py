# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 05 · face2paint: aligning faces before stylising them
#
# The article this toolkit grew from, 张小明, "AnimeGANv2技术揭秘:新海诚风格光影效果的实现" (in
# English: *AnimeGANv2 revealed: how the Makoto Shinkai light-and-shadow look is made*), promises
# that faces keep their geometry even when the head is turned: *detect the
# face, find five landmarks, warp the face to a standard pose, stylise there, warp back*. This
# notebook walks through every step on a real face and then shows, on a tilted head, the crop the
# generator sees and the stylised result, with and without alignment.
#
# The library owns the code (`animegan_edu.inference.face`); here we look at what each function does:
#
# 1. detection and five landmarks (MTCNN from facenet-pytorch),
# 2. the canonical five-point template,
# 3. the similarity transform from landmarks to template (Umeyama's least squares),
# 4. the aligned crop, 5. the stylised crop, 6. the inverse warp,
# 7. the feathered blend mask, 8. the result,
# 9. on a rotated face: the crop the generator sees and the stylised face, with and without
#    alignment.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib_inline.backend_inline import set_matplotlib_formats

from animegan_edu import viz
from animegan_edu.imageio import from_generator_range, to_generator_range
from animegan_edu.inference import face as F
from animegan_edu.inference import face_paste as FP
from animegan_edu.samples import sample_photo_array
from animegan_edu.weights.hub import get_generator

torch.manual_seed(0)
torch.set_num_threads(2)
viz.projector_style()  # figures at 110 dpi, 12 pt labels: readable on a projector
set_matplotlib_formats("jpeg")  # photos: JPEG keeps the saved notebook small

# (3, 512, 512) in [0, 1]
photo = torch.from_numpy(sample_photo_array("astronaut")).permute(2, 0, 1).div(255.0)
# the best weights on this machine: a public model, else the bundled demo
model, note = get_generator()
print(note)

# %% [markdown]
# The generator used below comes from `animegan_edu.weights.hub.get_generator()`: a downloaded
# public model if this machine has one, else the demo weights bundled with the toolkit. Every
# geometric step below is exact whatever the weights: that is what this notebook is about.
#
# ## 1 · Detection: a box and five landmarks
#
# MTCNN is a cascade of three small CNNs (P-Net proposes, R-Net filters, O-Net refines and
# outputs five points: both eyes, the nose tip, both mouth corners). Its weights ship inside the
# facenet-pytorch wheel, so nothing is downloaded. `detect_faces` wraps it: it also searches the
# picture turned by 90, 180 and 270 degrees and re-detects each face once it is upright (more
# on that in section 9).

# %%
faces = F.detect_faces(photo)
f = faces[0]
print(f"{len(faces)} face, confidence {f.prob:.3f}, size {f.size:.0f} px,",
      f"roll {f.roll:.1f} degrees")

names = ["left eye", "right eye", "nose", "mouth left", "mouth right"]
fig, ax = viz.figure(figsize=(4.6, 4.6))
ax.imshow(photo.permute(1, 2, 0))
x0, y0, x1, y1 = f.box.tolist()
ax.add_patch(plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, color="lime", lw=2))
for (x, y), n in zip(f.landmarks.tolist(), names):
    ax.plot(x, y, "o", color="yellow", ms=6)
ax.set_xlim(x0 - 60, x1 + 60)
ax.set_ylim(y1 + 60, y0 - 60)
ax.set_title("box (green) and landmarks (yellow)")
ax.axis("off")
plt.show()

# %% [markdown]
# ## 2 · The canonical template
#
# The template says where the five points should be in a square crop. Ours follows the framing
# of FFHQ, the portrait set the public face models were trained on: the eyes a quarter of the crop
# apart, level, a little above the centre, so hair and chin fit in the crop. It is stored in crop
# units and scaled to pixels:

# %% tags=["nbval-check-output"]
print(F.TEMPLATE.tolist())
print(F.template_points(512).round(decimals=1).tolist())

# %%
t = F.template_points(512)
fig, ax = viz.figure(figsize=(4.8, 4.8))
ax.add_patch(plt.Rectangle((0, 0), 511, 511, fill=False))
ax.plot(t[:, 0], t[:, 1], "o", color="crimson")
offsets = [(0, 10), (0, 10), (0, 10), (-6, -20), (6, -20)]  # label above / below
aligns = ["center", "center", "center", "right", "left"]
for (x, y), n, xy, ha in zip(t.tolist(), names, offsets, aligns):
    ax.annotate(n, (x, y), textcoords="offset points", xytext=xy, ha=ha, fontsize=11)
ax.set_xlim(-5, 516)
ax.set_ylim(516, -5)
ax.set_aspect("equal")
ax.set_xlabel("x (crop px)")
ax.set_ylabel("y (crop px)")
ax.set_title("template in a 512 px crop")
plt.show()


# %% [markdown]
# ## 3 · The similarity transform
#
# We want the rotation $R$, the uniform scale $s$ and the shift $t$ that carry the detected points
# $p_i$ onto the template points $q_i$ as closely as possible:
# $\min \sum_i \lVert q_i - (s R p_i + t) \rVert^2$. Umeyama (1991) solved it in closed form:
# centre both point sets, take the SVD $U \Sigma V^\top$ of their cross-covariance, then
# $R = U\,\mathrm{diag}(1, d)\,V^\top$ with $d = \pm 1$ chosen so that $\det R = +1$ (a rotation, not
# a mirror), $s = \mathrm{tr}(\Sigma\,\mathrm{diag}(1,d)) / \sigma_p^2$ and $t = \bar q - s R \bar p$.
#
# Written out in NumPy, to compare with the library's batched torch version:

# %%
def umeyama(p, q):
    mp, mq = p.mean(0), q.mean(0)
    pc, qc = p - mp, q - mq
    cov = qc.T @ pc / len(p)
    u, sig, vt = np.linalg.svd(cov)
    d = np.sign(np.linalg.det(u) * np.linalg.det(vt))
    D = np.diag([1.0, d])
    R = u @ D @ vt
    s = np.trace(np.diag(sig) @ D) / pc.var(0).sum()
    return np.hstack([s * R, (mq - s * R @ mp)[:, None]])

M = F.estimate_similarity(f.landmarks, F.template_points(512))
mine = umeyama(f.landmarks.numpy(), F.template_points(512).numpy())
print("same as the library:", np.allclose(mine, M.numpy()))
scale = float(torch.linalg.norm(M[:, 0]))
angle = math.degrees(math.atan2(float(M[1, 0]), float(M[0, 0])))
print(f"scale {scale:.2f} crop px per image px, rotation {angle:.1f} degrees")

# %% [markdown]
# A check that needs no detector: send the template into an image with a known rotation and
# scale, and the estimate must give exactly the inverse back.

# %% tags=["nbval-check-output"]
a = math.radians(30)
known = torch.tensor([[0.5 * math.cos(a), -0.5 * math.sin(a), 40.0],
                      [0.5 * math.sin(a), 0.5 * math.cos(a), 10.0]],
                     dtype=torch.float64)
pts = F.transform_points(known, F.template_points(512))
back = F.estimate_similarity(pts, F.template_points(512))
target = F.template_points(512)
recovered = torch.allclose(F.transform_points(back, pts), target, atol=1e-9)
print("template recovered:", recovered)
print("scale", round(float(torch.linalg.norm(back[:, 0])), 6),
      "angle", round(math.degrees(math.atan2(float(back[1, 0]), float(back[0, 0]))), 6))

# %% [markdown]
# ## 4 · The aligned crop
#
# kornia's `warp_affine` applies the 2x3 matrix: every crop pixel looks up the image at the
# inverse-mapped position (bilinear). Outside the image we mirror the picture in, which
# stylises better than black.

# %%
crop, M1 = F.align_face(photo, f.landmarks, 512)
lm_crop = F.transform_points(M1[0].double(), f.landmarks)
fig, ax = viz.figure(figsize=(4.6, 4.6))
ax.imshow(crop[0].permute(1, 2, 0))
ax.plot(t[:, 0], t[:, 1], "+", color="crimson", ms=14, mew=2, label="template")
ax.plot(lm_crop[:, 0], lm_crop[:, 1], "o", mfc="none", mew=2, color="yellow",
        label="landmarks after warp")
ax.legend(loc="lower right", fontsize=11)
ax.set_title("aligned crop, 512 x 512")
ax.axis("off")
plt.show()
print("mean distance landmark -> template:",
      f"{float((lm_crop - t).norm(dim=1).mean()):.1f} px")

# %% [markdown]
# Five points cannot all land exactly: a real face is not the template face. Least squares spreads
# the mismatch, and the eyes end up level.
#
# ## 5 · The stylised crop
#
# The generator sees a face framed the way its training faces were. It takes `[-1, 1]` tensors.

# %%
with torch.no_grad():
    styl = from_generator_range(model(to_generator_range(crop)))
viz.image_row([crop[0], styl[0].clamp(0, 1)], ["aligned crop", "stylised crop"],
              height_px=360)
plt.show()

# %% [markdown]
# ## 6 · The inverse warp
#
# `kornia.geometry.transform.invert_affine_transform` inverts the 2x3 matrix; warping the
# stylised crop with it puts the face back where it was, at its original size and angle.
# Warping there and back returns the image (up to two bilinear resamplings):

# %%
back = F.warp_back(styl, M1, photo.shape[-2:])
roundtrip = F.warp_back(crop, M1, photo.shape[-2:])
covered = F.warp_back(torch.ones(1, 1, 512, 512), M1, photo.shape[-2:])[0, 0] > 0.999
err = (roundtrip[0] - photo).abs().amax(0)[covered]
print(f"warp then inverse warp, inside the crop: mean error {float(err.mean()):.4f},",
      f"99th percentile {float(err.quantile(0.99)):.3f}")
viz.image_row([back[0].clamp(0, 1), roundtrip[0].clamp(0, 1)],
              ["stylised crop, warped back", "photo crop, warped back"], height_px=360)
plt.show()

# %% [markdown]
# ## 7 · The blend mask
#
# The crop is square, the face is not: pasting the whole square would show its edges. A feathered
# ellipse (1 over the face, a cosine ramp to 0 towards the crop edge) is warped back with the
# same inverse transform and used as the blending weight.

# %%
mask_crop = FP.feather_mask(512)
mask = F.warp_back(mask_crop, M1, photo.shape[-2:])
viz.image_row([mask_crop[0, 0], mask[0, 0]],
              ["feathered mask in the crop", "warped back into the photo"],
              height_px=360,
              colorbar_label="blend weight of the face")
plt.show()

# %% [markdown]
# ## 8 · The result
#
# `face2paint` does all of the above for every face and pastes each into the stylised picture:
# `out = background * (1 - mask) + face * mask`. Its report says what it did.
#
# It does not crop every face at 512 px: a crop bigger than the face's footprint on the photo
# only upsamples it, and the generator's time grows with the crop's area. `face_crop_size` gives
# each face 1.5 crop pixels per photo pixel of its footprint (four eye distances), rounded to a
# multiple of 8 and kept between 256 and 512.

# %%
res = FP.face2paint(photo, model, faces=faces, keep_steps=True)
print(res.report)
print(f"eyes {faces[0].eye_distance:.0f} px apart -> crop {FP.face_crop_size(faces[0])} px",
      f"(stylised crop {tuple(res.steps[0].stylised_crop.shape[-2:])})")
viz.image_row([photo, res.background[0].clamp(0, 1), res.image[0].clamp(0, 1)],
              ["photo", "whole image stylised", "face2paint"], height_px=360)
plt.show()

# %% [markdown]
# ## 9 · A tilted head: the crop and the result with and without alignment
#
# Turn the photo by 40 degrees. Without alignment, the usual shortcut is to cut out the
# detector's box and resize it: the generator then sees a tilted face. With alignment, the same
# face arrives upright. MTCNN's landmarks drift on strongly tilted heads, so `detect_faces`
# aligns once with the first landmarks, detects again in that nearly upright crop, and maps the
# better landmarks back.

# %%
from kornia.geometry.transform import resize

tilted, _ = F.rotate_expanded(photo, 40)  # the whole photo, turned, on a larger canvas
tf = F.detect_faces(tilted)[0]
print(f"tilted face: roll {tf.roll:.0f} degrees, refined landmarks: {tf.refined}")

# without alignment: the axis-aligned box, resized
x0, y0, x1, y1 = [int(v) for v in tf.box.tolist()]
naive = resize(tilted[None, :, y0:y1, x0:x1], (256, 256))
# with alignment
aligned, _ = F.align_face(tilted, tf.landmarks, 256)

viz.image_row([tilted.clamp(0, 1), naive[0].clamp(0, 1), aligned[0].clamp(0, 1)],
              ["photo turned by 40 degrees", "box crop:\nthe generator sees a tilt",
               "aligned crop:\nupright"], height_px=360)
plt.show()


# %% [markdown]
# Measured on the crops themselves, by running the detector on each: the eye line of the box crop
# is tilted by about the head's roll, the aligned crop's is level.
#
# Then the stylised results, side by side at the same size: the generator run on the box crop (the
# tilted face, no alignment), and `face2paint` on the tilted photo (aligned, stylised upright,
# warped back), cut to the same box and resized to the same 256 x 256 pixels.

# %%
# Face.roll is the eye line against the horizontal, in degrees
for label, crop in (("box crop:    ", naive[0]), ("aligned crop:", aligned[0])):
    roll = F.detect_faces(crop, rotations=(0, 90, 180, 270), refine=False)[0].roll
    print(f"eye line in the {label} {roll:6.1f} degrees")

# %%
# without alignment: the generator on the box crop, as it is
with torch.no_grad():
    naive_styl = from_generator_range(model(to_generator_range(naive)))
# with alignment: face2paint on the tilted photo, then the same box cut out at the same size
res_tilted = FP.face2paint(tilted, model, faces=[tf], size=256)
print(res_tilted.report)
aligned_box = resize(res_tilted.image[:, :, y0:y1, x0:x1], (256, 256))
viz.image_row([naive_styl[0].clamp(0, 1), aligned_box[0].clamp(0, 1),
               res_tilted.image[0].clamp(0, 1)],
              ["without alignment:\ngenerator on the box crop",
               "with alignment:\nface2paint, same box",
               "face2paint,\nthe whole tilted photo"], height_px=360)
plt.show()

# %% [markdown]
# With the demo weights (the note printed at the top), both stylised faces keep their features: the
# eyes, brows, nose and smile sit where they should, and the tilt smears nothing. The result without
# alignment is even a little crisper (sharper eyes and teeth, more brush strokes in the hair); the
# `face2paint` face is softer. That most likely comes from sizes and resampling, not from the tilt:
# the box crop is tighter (a box of about 140 photo pixels enlarged to 256, while the aligned 256 px
# crop frames hair and chin too, four eye distances, about 177 photo pixels), and `face2paint`
# resamples the face twice more (into the crop and back). The demo generator was trained on random
# crops of photos, not on aligned faces, and stylises a tilted face as it does any other part of a
# picture. What alignment buys is a face framed and upright the
# way a face model's training faces were (section 2): it matters for generators trained on aligned
# portraits, such as the public `face_paint_512` models, which are not bundled and are not what
# this figure shows.

# %% [markdown]
# ## Summary
#
# * MTCNN gives a box and five landmarks; `detect_faces` adds a search over quarter turns and an
#   upright re-detection, so tilted and upside-down heads are found with accurate landmarks.
# * A similarity transform (rotation, uniform scale, shift) fitted by least squares carries the
#   landmarks onto a fixed template; kornia warps the face into an upright square crop.
# * The crop is stylised, warped back with the inverse matrix and blended in through a feathered
#   mask; warping there and back returns the image.
# * On a tilted head the aligned crop is upright (its eye line at about 1 degree, the box crop's at
#   about -34). With the demo weights the stylised face comes out as well without alignment;
#   alignment pays off with generators trained on aligned, upright faces.
# * Zero faces: the whole image is stylised and the report says so. Faces under `min_face`
#   pixels are skipped and reported. On the command line: `animegan-edu stylize --face`.

# %% [markdown]
# ## References
#
# * 张小明 (Zhang Xiaoming). "AnimeGANv2技术揭秘:新海诚风格光影效果的实现" (*AnimeGANv2 revealed:
#   how the Makoto Shinkai light-and-shadow look is made*), online technical article: the text this
#   toolkit grew from.
# * Zhang, K., Zhang, Z., Li, Z., Qiao, Y. (2016). "Joint Face Detection and Alignment Using
#   Multitask Cascaded Convolutional Networks". IEEE Signal Processing Letters.
# * Umeyama, S. (1991). "Least-squares estimation of transformation parameters between two point
#   patterns". IEEE TPAMI 13(4).

# %% [markdown]
# ## Exercises
#
# Each exercise below states a task; fill in the function in the code cell under it and run the cell.
# The checker calls your function on fresh random inputs and compares it with the library's own
# implementation: it answers **Correct** or **Not yet** with a hint, never the solution. Run as it is,
# every cell prints "Not yet". Reference solutions are in `solutions/` at the top of the repository.
# Add `hint=2` for a closer hint (`exercises.check_x(fn, hint=2)`). Each call draws new inputs;
# a "Not yet" names their seed, and `seed=` draws the same ones again. The library's own function
# is refused: write your own.

# %%
from animegan_edu.teaching import exercises_inference as exercises

# %% [markdown]
# **1 · Umeyama's similarity transform.** Write `similarity(src, dst)`: for two `(K, 2)` point sets,
# the `(2, 3)` matrix `[s R | t]` (rotation `R` with `det R = +1`, one scale `s`, shift `t`) that
# minimises the squared distances from `s R src + t` to `dst` (section 3). The checker uses noisy
# points, so an exact solve of three points is not enough.

# %%
def similarity(src, dst):
    return None  # your code here

exercises.check_similarity(similarity)

# %% [markdown]
# **2 · Warping back.** The stylised crop goes back into the photo with the inverse transform (section
# 6). Write `invert(M)` for a `(2, 3)` affine matrix `M = [A | t]`, returning the `(2, 3)` matrix of
# the inverse map.

# %%
def invert(M):
    return None  # your code here

exercises.check_invert_similarity(invert)

# %% [markdown]
# **3 · Project (20-30 min): Umeyama step by step.** Split exercise 1 into four functions, checked
# in order on fresh random point sets (`(K, 2)` float64, one set mirrored): (a) `centre_cov(src,
# dst)` returns `(mu_s, mu_d, cov)`: the two means and the 2x2 cross-covariance, whose rows belong to
# `dst` and columns to `src`, averaged over the K points; (b) `rotation(cov)`: the rotation from
# the SVD of `cov` (`torch.linalg.svd` is allowed), with the reflection fix so that `det R = +1`;
# (c) `scale(src, cov, R)`: the scale; (d) `translation(mu_s, mu_d, s, R)`: the shift `t`.
# Together `[s R | t]` must equal the library's `estimate_similarity`, which is refused.

# %%
from animegan_edu.teaching import exercises_projects as projects


def centre_cov(src, dst):
    return None  # your code here: (mu_s, mu_d, cov)


def rotation(cov):
    return None  # your code here


def scale(src, cov, R):
    return None  # your code here


def translation(mu_s, mu_d, s, R):
    return None  # your code here


projects.check_umeyama(centre_cov, rotation, scale, translation)
