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
# # 11 · One model, many styles
#
# Every generator so far knows one style: `wesnoth` paints, `hedgewars` draws cartoons, and
# switching style means loading other weights. The article this course grew from describes a
# different design (its section 2.2, point 2): a **style encoding** enters the generator, so that
# one model can tell the hand-drawn Hayao look from Shinkai's digital glow, and the user can choose
# and control the style.
#
# This notebook builds that design on the AnimeGANv2 generator and looks inside the trained model
# that ships with the toolkit (`styles`, three styles in one file):
#
# 1. **conditional normalisation**: how a short vector, the *style code*, steers every layer;
# 2. the first path to a code: a **learned code per named style**, and the styles side by side;
# 3. **mixing**: codes in between give pictures in between;
# 4. the second path: a **style encoder** that reads a code from reference pictures, and what it
#    picks up;
# 5. how the model was trained, and how well each style reaches its own art, measured.

# %% tags=["nbval-check-output"]
# %config InlineBackend.figure_formats = ["jpeg"]
import json

import kornia
import matplotlib.pyplot as plt
import numpy as np
import torch

from animegan_edu import viz
from animegan_edu.conditioned import (
    ModulatedGroupNorm,
    StyleConditionedGenerator,
    StyleView,
    channel_stats,
)
from animegan_edu.data.dataset import list_images, read_image
from animegan_edu.models import count_parameters
from animegan_edu.resources import data_dir
from animegan_edu.samples import sample_photo01
from animegan_edu.training.multistyle import reference_stats
from animegan_edu.training.style_eval import load_style_sets, style_scores
from animegan_edu.training.watch import course_root
from animegan_edu.weights.conditioned import get_conditioned
from animegan_edu.weights.hub import get_generator

torch.manual_seed(0)
viz.projector_style()  # figures at 110 dpi, 12 pt labels: readable on a projector
model = get_conditioned("styles")  # the bundled style-conditioned generator
STYLES = list(model.style_names)
demo, _ = get_generator("demo", progress=False)
print("styles:", ", ".join(STYLES))
print(f"parameters: {count_parameters(model):,} (the plain generator: {count_parameters(demo):,})")

# %% [markdown]
# ## 1 · Conditional normalisation
#
# Every block of the generator ends its convolution with a **GroupNorm** (notebook 01). It
# normalises the features, then applies a learned scale `weight` and shift `bias` per channel:
# `y = norm(x) * weight + bias`. Dumoulin, Shlens and Kudlur (2017) found that a whole family of
# painting styles can share *all* the convolutions of a style-transfer network, and differ only in
# these per-channel scales and shifts. Huang and Belongie (2017, AdaIN) went further: they took the
# scale and shift from the channel statistics of a style picture, so that any picture can serve as
# a style.
#
# Here every GroupNorm is a `ModulatedGroupNorm`. A small linear map per layer turns the style code
# `c` (16 numbers) into a change of scale `dg` and of shift `db` for every channel; this is called
# feature-wise linear modulation (FiLM):
#
# `y = norm(x) * weight * (1 + dg(c)) + bias + db(c)`
#
# Below, one channel of the generator's first block, for a photo: what the layer gives with no code,
# with `dg = 0.5` (every value's distance from the learned shift `bias` grows by half, so the values
# spread wider and, in this channel, move further below the bias) and with `db = -1` (every value
# moved down by one).

# %%
photo = sample_photo01("coffee", 256)[None]  # (1, 3, H, W) in [0, 1]
first_norm = demo.block_a[0][2]  # the first GroupNorm of the plain demo generator
captured = {}
hook = first_norm.register_forward_hook(lambda m, i, o: captured.update(x=i[0]))
with torch.no_grad():
    demo(photo * 2 - 1)
hook.remove()
layer = ModulatedGroupNorm(first_norm.num_groups, first_norm.num_channels)
layer.load_state_dict(first_norm.state_dict())
x, ch = captured["x"], 5
zeros = torch.zeros(1, layer.num_channels)
cases = {"no code": None, "dg = 0.5": (zeros + 0.5, zeros), "db = -1": (zeros, zeros - 1)}
fig, ax = viz.figure(figsize=(10, 4.2))
with torch.no_grad():
    for label, modulation in cases.items():
        layer.modulation = modulation
        values = layer(x)[0, ch].flatten().numpy()
        ax.hist(values, bins=60, histtype="step", lw=2, density=True, label=label)
layer.modulation = None
ax.set_xlabel(f"value of channel {ch} after the norm layer")
ax.set_ylabel("density")
ax.set_title("The style code scales and shifts each channel")
ax.legend()
plt.show()

# %% [markdown]
# The heads that map the code to `dg` and `db` start at **zero**. With zero heads, or with no code
# at all, the layer computes exactly the plain GroupNorm. So the public and the demo weights load
# into the conditioned generator unchanged, and give the very same pictures. The cell below checks
# this on a photo (the tests check it to 1e-6 on random weights too):

# %%
fresh = StyleConditionedGenerator(["a", "b"])
fresh.load_generator_state(demo.state_dict())
with torch.no_grad():
    plain = (demo(photo * 2 - 1) + 1) / 2
    same = (fresh(photo * 2 - 1) + 1) / 2  # no code
    zero_heads = (fresh(photo * 2 - 1, fresh.style_code("a")) + 1) / 2  # a code, heads still zero
diff = (plain - zero_heads).abs().amax(1)[0]
print(f"largest difference, no code: {(plain - same).abs().max().item():.1e}; "
      f"a code with zero heads: {diff.max().item():.1e}")
fig = viz.image_row([plain[0], zero_heads[0], diff.numpy()],
                    ["plain demo generator", "conditioned, zero heads", "difference"],
                    height_px=256, colorbar_label="|difference| (0-1)", vmin=0, vmax=0.01)
plt.show()

# %% [markdown]
# ## 2 · The first path: a learned code per named style
#
# The trained model holds one 16-number code per style (an embedding, learned along with the
# network). Choosing a style means choosing its code. The same network, three codes:

# %%
names = ["coffee", "chelsea", "rocket"]
photos = [sample_photo01(n, 256) for n in names]
rows = []
with torch.no_grad():
    for p in photos:
        outs = [(model(p[None] * 2 - 1, model.style_code(s))[0] + 1) / 2 for s in STYLES]
        rows += [p] + [o.clamp(0, 1) for o in outs]
fig = viz.image_row(rows, (["photo"] + STYLES) * len(names), height_px=256,
                    ncols=1 + len(STYLES), suptitle="One generator, three style codes")
plt.show()

# %% [markdown]
# The three codes give three looks from one set of convolutions. `Wesnoth` and `Hedgewars` are
# close relatives: soft painted shapes, with `Hedgewars` a little duller and flatter. `Clipart` is
# brighter and warmer, with more saturated colour and darker outlines (see the cat's eyes and the
# deeper blue of the night sky). Each was learnt from a single-style generator trained on that
# set's art; section 5 says how, and measures how near each comes to its own art.
#
# Where in the network do the styles differ? For every norm layer (24, from the input to the
# output), the heat map shows how far each style's code moves the scale: the mean of `|dg|` over the
# layer's channels.

# %%
with torch.no_grad():
    dg = np.array([[head(model.style_code(s)).chunk(2)[0].abs().mean().item()
                    for head in model.film] for s in STYLES])
fig, ax = viz.figure(figsize=(13, 3.6))
viz.heatmap(ax, dg, "mean |dg| (scale change)", cmap="magma",
            title="How much each style changes each layer's scale",
            axis_labels=("norm layer, from the input (0) to the output (23)", "style"))
ax.set_yticks(range(len(STYLES)), STYLES)
plt.show()
top = dg.mean(0).argsort()[::-1][:3]
print("layers changed most (mean over styles):", ", ".join(model.norm_names[i] for i in top))

# %% [markdown]
# Every layer takes part. `Hedgewars` moves the most layers the most (up to about 0.10 at layer
# 13, in the inverted residual blocks). The last norm layer (23, just before the output
# convolution) is among the most changed for `Wesnoth` and `Hedgewars`, but hardly for `Clipart`,
# which leaves the first layers almost untouched and changes layers 13 and 19 most. The changes
# are small, 3 to 10 per cent of each channel's scale: the shared convolutions do most of the
# work, as Dumoulin et al. found for painting styles.

# %% [markdown]
# ## 3 · Mixing: codes in between
#
# A code is a vector, so we can walk from one style's code to another's:
# `c(t) = (1 - t) c_A + t c_B`. The network is smooth in the code, so the pictures change
# gradually along the way. This is the mixing slider of the Studio (notebook 08) and
# `animegan-edu stylize --style A --mix B:0.3`. The strip goes from the first style to the second;
# the plot measures each picture's style distance (notebook 09) to the two styles' small course sets.

# %%
a, b = STYLES[0], STYLES[1]
ts = [0.0, 0.25, 0.5, 0.75, 1.0]
strip = []
with torch.no_grad():
    for t in ts:
        code = model.mix({a: 1 - t, b: t}) if 0 < t < 1 else model.style_code(a if t == 0 else b)
        strip.append(((model(photos[0][None] * 2 - 1, code)[0] + 1) / 2).clamp(0, 1))
fig = viz.image_row(strip, [f"t = {t:g}" for t in ts], height_px=256,
                    suptitle=f"From {a} (t = 0) to {b} (t = 1)")
plt.show()

# %%
course = load_style_sets(course_root(), [a, b])
dist = {s.name: [] for s in course}
with torch.no_grad():
    for t in ts:
        code = model.mix({a: 1 - t, b: t}) if 0 < t < 1 else model.style_code(a if t == 0 else b)
        view = StyleView(model, code)  # the generator under this code, called like a plain one
        scores = style_scores(view, course, size=256, names=["coffee", "chelsea", "astronaut"])
        for s in course:
            dist[s.name].append(scores.distance[s.name])
fig, ax = viz.figure(figsize=(8, 4.2))
for name, values in dist.items():
    ax.plot(ts, values, "o-", lw=2, label=f"to the {name} course set")
ax.set_xlabel(f"t (share of {b})")
ax.set_ylabel("style distance (lower: closer)")
ax.set_title("Distance to each set along the mix (3 photos, 256 px)")
ax.legend()
plt.show()
print({k: [round(v, 2) for v in vs] for k, vs in dist.items()})

# %% [markdown]
# Along the strip the picture changes gradually, and both distances fall smoothly from `t = 0` to
# `t = 1`, with no jump: the code space is continuous. Note that on these small course sets (24
# pictures at 256 px) even the pure `Wesnoth` code comes out nearer the Hedgewars set than the
# Wesnoth one; at 256 px the painted styles are hard to tell apart. The measurements that count are
# at 512 px against the full sets, in section 5.

# %% [markdown]
# ## 4 · The second path: a code read from reference pictures
#
# A named code is chosen by name. The **style encoder** chooses from pictures instead: give it a
# few pictures of the art you want, and it says which of the learned styles they resemble. For
# each reference picture it computes statistics of early layers of the pretrained VGG16
# (notebook 03): for every channel of `conv1_2`, `conv2_2` and `conv3_3`, the mean and the spread
# over the picture (896 numbers). These are the statistics AdaIN transfers: they describe colour,
# contrast and texture, but not where things are. Two linear layers turn them into one score per
# named style, a softmax turns the scores into weights that add up to 1, and the weights of
# several pictures are averaged. The code is the weighted mean of the named codes
# (`reference_code`), so references the encoder is sure of get exactly that style's code, and
# references between two styles get a mix. This is the "style tokens" design of Wang et al.
# (2018): the encoder picks among learned styles rather than inventing a new one. The encoder
# was trained to name the set of each training picture (a cross-entropy loss, a few seconds).
#
# `channel_stats` computes the statistics of one layer (you write it in exercise 2):

# %%
feat = torch.randn(1, 4, 8, 8) * torch.tensor([1.0, 2.0, 0.5, 3.0])[None, :, None, None]
print(channel_stats(feat).round(decimals=2))  # 4 means, then 4 spreads

# %% [markdown]
# Which style does the encoder read from pictures of each set? Below, four pictures of each small
# course set serve as references (they may overlap the training pictures; the test on pictures held
# out of training is in section 5). Each row gives the encoder's weights over the three named
# styles. A last row uses four photos as references.

# %%
refs = {s: [read_image(p) for p in list_images(course_root() / s / "style")[:4]] for s in STYLES}
refs["photos"] = [sample_photo01(n, 256) for n in ["astronaut", "coffee", "chelsea", "rocket"]]
with torch.no_grad():
    stats = {k: reference_stats(v) for k, v in refs.items()}
    reads = np.array([list(model.reference_weights(st).values()) for st in stats.values()])
    codes = {k: model.reference_code(st) for k, st in stats.items()}
rows = [f"4 {k}" + (" pictures" if k in STYLES else "") for k in refs]
fig, ax = viz.figure(figsize=(7.5, 4.6))
viz.heatmap(ax, reads, "encoder weight", cmap="viridis", vmin=0, vmax=1, values=".2f",
            title="How the encoder reads each group of references", ticks=(STYLES, rows),
            axis_labels=("named style", "references"))
plt.show()

# %%
with torch.no_grad():
    outs = [((model(photos[1][None] * 2 - 1, codes[k])[0] + 1) / 2).clamp(0, 1) for k in codes]
fig = viz.image_row([photos[1]] + outs, ["photo"] + [f"code from {k}" for k in codes],
                    height_px=256, ncols=len(outs) + 1,
                    suptitle="The same photo under codes read from references")
plt.show()

# %% [markdown]
# Four pictures of each set are read as that set with full weight (1.00), so their code is exactly
# the set's named code and the picture beside it is the named style's. Four photos are read as
# 81 % `Wesnoth` and 19 % `Hedgewars`: to this encoder, photos look most like the painted scenes
# (the style distance of notebook 09 says the same: the photos themselves are nearest the Wesnoth
# set). Their code is a mix, which is as far as this design goes: a reference in a new style
# still gets a blend of the three styles the model knows.
#
# What does the encoder pick up? Its input has no layout, only per-channel averages and spreads,
# so it can react to palette, contrast and texture. The cell below takes the Clipart references
# and changes one thing at a time: the colour (grey), the brightness (half), the edges (a Gaussian
# blur of 2 px) and the texture (added noise). Then it reads them again:

# %%
base = refs[STYLES[2]]
noise = torch.Generator().manual_seed(0)
variants = {"as they are": base, "grey": [p.mean(0, keepdim=True).expand(3, -1, -1) for p in base],
            "half as bright": [p * 0.5 for p in base],
            "blurred (2 px)": [kornia.filters.gaussian_blur2d(p[None], (9, 9), (2.0, 2.0))[0]
                               for p in base],
            "with noise": [(p + 0.08 * torch.randn(p.shape, generator=noise)).clamp(0, 1)
                           for p in base]}
with torch.no_grad():
    vreads = np.array([list(model.reference_weights(reference_stats(v)).values())
                       for v in variants.values()])
fig, ax = viz.figure(figsize=(7.5, 4.6))
viz.heatmap(ax, vreads, "encoder weight", cmap="viridis", vmin=0, vmax=1, values=".2f",
            title=f"{STYLES[2]} references, changed", ticks=(STYLES, list(variants)),
            axis_labels=("named style", "references"))
plt.show()

# %% [markdown]
# Every change moves the reading, each in its own direction. Halving the brightness moves most of
# the weight (0.75) to `Hedgewars`, the darker cartoons; blurring away the crisp edges moves it to
# `Wesnoth`, the soft painted style (0.57); grey pictures and added noise each take away a third
# or more. So the encoder reads brightness and edges (the means and the spreads of the early VGG
# channels) more than colour: the grey clip art is still read as 0.61 `Clipart`. It can only
# answer with the styles it knows: the darkened clip art is not "dark clip art" to it, but mostly
# `Hedgewars`.

# %% [markdown]
# ## 5 · How the model was trained, and how well it works
#
# The model starts from the demo weights, and `animegan-edu train-styles --config
# configs/multistyle.yaml` trains it in 1,200 steps, round-robin over the three sets (400 each):
# 1,864 seconds of steps on two threads of an AMD EPYC (at most 62 CPU-minutes), resumable from
# its checkpoint.
#
# * Each style learns from a single-style generator that had learnt it from the art with the GAN
#   (notebook 09): the bundled `wesnoth` and `hedgewars`, and a short Clipart run
#   (`configs/style_clipart.yaml`). On the same photo crops, the conditioned generator under that
#   set's code is asked for the teacher's picture (an L1 loss: *distillation*, Hinton et al. 2015).
#   Training the sets with their GAN recipes inside this run did not work: every code drifted
#   towards the painted look (the Hedgewars recipe holds its style for only about 100 steps,
#   notebook 09, section 6), and Clipart's adversarial training made a harsh look far from every
#   set.
# * Then the **encoder** is fitted: name the set of each training picture from its statistics
#   (2,000 small steps, a few seconds).
#
# Every 10th picture of each set was held out of the run and of the encoder, to test the reference
# path on art it never saw (the teachers had seen whole sets). The measurements below were made at
# 512 px on the 8 validation photos, against the full style sets (which need
# `animegan-edu data prepare-styles`, so they are stored in `weights/styles_eval.json`).

# %% tags=["nbval-check-output"]
card = json.loads((data_dir("weights") / "styles_eval.json").read_text())
print(f"measured at {card['size']} px on the 8 validation photos, {card['cpu']['model']}")
print(card["table"])
for pair, m in card["mixes"].items():
    print(f"mix 0.5 {pair}: between in the outputs' style space: {m['between_in_output_space']};",
          f"lean between: {m['between_in_lean']}; between on both sets' distances:",
          m["between_on_both_sets"])
for s, r in card["reference_path"].items():
    weights = ", ".join(f"{k} {v:.2f}" for k, v in r["weights"].items())
    print(f"reference path, {r['held_out']} held-out {s} pictures: read as {weights};",
          f"{r['pictures_read_as_own']} of {r['held_out']} read as {s} one by one;",
          f"outputs nearest {r['nearest']}")

# %%
dist = np.array([[card["styles"][s]["distance"][t] for t in STYLES] for s in STYLES])
fig, ax = viz.figure(figsize=(9, 4.4))
width = 0.8 / len(STYLES)
for j, target in enumerate(STYLES):
    ax.bar(np.arange(len(STYLES)) + (j - 1) * width, dist[:, j], width, label=f"to {target}")
ax.set_xticks(range(len(STYLES)), [f"code {s}" for s in STYLES])
ax.set_xlabel("style code of the outputs")
ax.set_ylabel("style distance (lower: closer)")
ax.set_title(f"Each style's outputs against every full set ({card['size']} px)")
viz.legend_outside(ax)
plt.show()

# %% [markdown]
# What the model reaches, and what it does not:
#
# * **Each style is nearest its own set** (the starred diagonal): `Wesnoth` 2.15 against 2.59 to
#   Hedgewars, `Hedgewars` 1.73 against 2.09 to Wesnoth, `Clipart` 3.47 against 3.99 to Hedgewars.
#   The margins are modest, about those of the teachers (notebook 09). Clip art was reached only
#   after its set was cropped to the drawings: on the empty white page around each drawing, no
#   recipe came near it.
# * **The mix at 0.5 lies between the two pure styles**, read two ways for all three pairs: its
#   outputs are nearer each pure style's outputs than those are to each other, and its *lean*
#   (distance to the first set minus distance to the second) lies between the pure styles' leans.
#   A stricter reading, that its distance to each set lie between the pure styles', fails for
#   `Wesnoth` + `Hedgewars`: both pure styles are about 2.1 from the Wesnoth set (2.15 and
#   2.09), and the mix comes out at 2.07, just below that narrow range.
# * **The reference path on held-out pictures** gives each set's style: the encoder reads 14 of 14
#   held-out Wesnoth pictures, 15 of 16 Hedgewars and 15 of 16 Clipart pictures as their own set,
#   one at a time, and the outputs under the code of each set's held-out pictures are nearest that
#   set.
#
# The design works: one network, named and read codes, smooth mixing. What it cannot do is shown
# above: a reference in a style it never learnt is read as a blend of the three it knows.

# %% [markdown]
# ## Summary
#
# * **Conditional normalisation**: each norm layer's scale and shift are modulated by a style code,
#   `norm(x) * weight * (1 + dg(c)) + bias + db(c)`; zero heads give exactly the plain generator,
#   so trained weights load unchanged (the difference above is 0).
# * **Two paths to a code**: a learned code per named style, and an encoder that reads reference
#   pictures' VGG channel statistics and weighs the named styles (brightness and edges count more
#   than colour); the code is the weighted mean of their codes.
# * **Mixing** codes moves the picture smoothly from one style to another: the Studio's mixing slider
#   and `animegan-edu stylize --style A --mix B:0.3`.
# * The bundled `styles` model (2,452,467 parameters, 9.8 MB) learnt its three styles by
#   distillation from single-style generators trained on each set's art, in 1,864 seconds of steps
#   on two threads. Measured at 512 px, each style is nearest its own set, each mix lies between
#   its pure styles, and held-out reference pictures give their own set's style.

# %% [markdown]
# ## References
#
# * 张小明 (Zhang Xiaoming). "AnimeGANv2技术揭秘:新海诚风格光影效果的实现" (*AnimeGANv2 revealed:
#   how the Makoto Shinkai light-and-shadow look is made*), online technical article: section 2.2,
#   point 2, describes the two-path style encoding built here.
# * Chen, J., Liu, G., Chen, X. (2019). "AnimeGAN: A Novel Lightweight GAN for Photo Animation".
#   ISICA 2019; and the AnimeGANv2 repository (TachibanaYoshino/AnimeGANv2).
# * Dumoulin, V., Shlens, J., Kudlur, M. (2017). "A Learned Representation for Artistic Style".
#   ICLR 2017 (conditional instance normalisation: many styles share one network).
# * Huang, X., Belongie, S. (2017). "Arbitrary Style Transfer in Real-time with Adaptive Instance
#   Normalization". ICCV 2017 (AdaIN: the scale and shift from a style picture's statistics).
# * Perez, E., Strub, F., de Vries, H., Dumoulin, V., Courville, A. (2018). "FiLM: Visual Reasoning
#   with a General Conditioning Layer". AAAI 2018 (feature-wise linear modulation).
# * Wang, Y., Stanton, D., Zhang, Y., Skerry-Ryan, R. J., Battenberg, E., Shor, J., Xiao, Y.,
#   Ren, F., Jia, Y., Saurous, R. A. (2018). "Style Tokens: Unsupervised Style Modeling, Control and
#   Transfer in End-to-End Speech Synthesis". ICML 2018 (a reference's style as weights over
#   learned style embeddings).
# * Hinton, G., Vinyals, O., Dean, J. (2015). "Distilling the Knowledge in a Neural Network".
#   NIPS 2014 Deep Learning Workshop (learning from a trained teacher's outputs).
# * Simonyan, K., Zisserman, A. (2015). "Very Deep Convolutional Networks for Large-Scale Image
#   Recognition". ICLR 2015 (VGG16).

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
from animegan_edu.teaching import exercises_styles as exercises

# %% [markdown]
# **1 · The modulated norm.** Write `modulated_norm(x, groups, weight, bias, dg, db)` for feature
# maps `x` `(N, C, H, W)`: group-normalise `x` (eps `1e-5`; `torch.nn.functional.group_norm` without
# weight and bias is allowed), then apply the learned `weight` and `bias` `(C,)` as modulated by the
# code's `dg` and `db` `(N, C)`, as in section 1.

# %%
def modulated_norm(x, groups, weight, bias, dg, db):
    raise NotImplementedError  # your code here


print(exercises.check_modulated_norm(modulated_norm))

# %% [markdown]
# **2 · The encoder's statistics.** Write `stats(feat)`: for feature maps `(N, C, H, W)`, the mean of
# every channel over its positions, then the spread (torch's default standard deviation) of every
# channel, as one `(N, 2C)` tensor: all the means first, then all the spreads.

# %%
def stats(feat):
    raise NotImplementedError  # your code here


print(exercises.check_channel_stats(stats))

# %% [markdown]
# **3 · Explore (not checked).** In section 4, use your own pictures as references (any folder of
# pictures: `read_image` reads each) and look at how `model.reference_weights` reads them. Then open
# the Studio (notebook 08), choose the weights `styles`, and upload the same pictures with
# **Reference art**: its status line gives the same reading. Which change to a picture moves the
# reading most, and why?
