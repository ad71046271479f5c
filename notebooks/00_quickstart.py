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
# # 00 · Quickstart: a photo becomes anime in three cells
#
# This notebook turns a photo into an anime-style picture with the AnimeGANv2 generator, on
# the CPU, offline. The weights come from `animegan_edu.weights.hub`:
#
# * if you have downloaded a public model (`animegan-edu weights download face_paint_512_v2`,
#   see the README), it is used;
# * otherwise the toolkit's **own demo weights** (`weights/demo.safetensors`):
#   16,000 steps of the toolkit's demo recipe (`configs/demo.yaml`, about 2.2 G pixels),
#   6.3 hours of training on 2-core CPUs, towards a procedural cel-shading look. They are
#   a teaching result, softer than the public models; `weights/MODEL_CARD.md` says what they reach
#   and where they fall short.
#
# The later notebooks open every box used here: the generator (01), discriminators (02),
# losses and data (03), training (04), faces (05), colour grading (06), fast CPU inference (07)
# and the studio (08).

# %% [markdown]
# ## 1 · Load a generator
#
# `get_generator()` is the toolkit's one way to get a generator. Offline it loads the best
# weights this machine has (a downloaded public model, else the demo weights bundled with the
# toolkit) and its label says which. A damaged or tampered weights file is never replaced
# silently: it stops with a one-line message.

# %%
# %config InlineBackend.figure_formats = ["jpeg"]
import matplotlib.pyplot as plt
import torch

from animegan_edu.studio.widgets import StudioSettings, render, sample_images
from animegan_edu.weights.hub import get_generator

torch.manual_seed(0)
model, label = get_generator()
print("generator:", label)

# %% [markdown]
# ## 2 · Stylise a photo
#
# `render()` resizes the photo (longest side `size` pixels), runs the generator on the
# `[-1, 1]` tensor and converts back to a `[0, 1]` picture. `grade="neutral"` leaves colours as
# the generator made them (notebook 06 adds the Shinkai grade).

# %%
photos = sample_images(("astronaut", "coffee", "chelsea"))
neutral = StudioSettings(size=384, grade="neutral")
results = {name: render(img, model, neutral) for name, img in photos.items()}

fig, axes = plt.subplots(2, 3, figsize=(12, 7.5))
for col, (name, r) in enumerate(results.items()):
    axes[0, col].imshow(r.photo[0].permute(1, 2, 0))
    axes[0, col].set_title(f"photo: {name}")
    axes[1, col].imshow(r.result[0].permute(1, 2, 0))
    axes[1, col].set_title("stylised")
for ax in axes.flat:
    ax.axis("off")
fig.suptitle(label, fontsize=9)
plt.tight_layout()

# %% [markdown]
# ## 3 · Sliders: size and style strength
#
# Style strength blends the photo and the stylised picture (`0` = photo, `1` = full style).
# Size is the longest side, in pixels, of the image the generator sees. Its brush strokes have a
# fixed size in pixels (the receptive field, notebook 01), so the smaller the image, the larger
# the strokes are next to each object. With a running kernel, move the sliders; a headless run
# (CI, GitHub) shows the static grid below instead.
#
# In the grid's bottom row, 512 px keeps the cup, the saucer and the spoon with fine strokes, and
# 256 px paints them with coarser ones. At 128 px the picture is a blur (the small result is
# also shown enlarged): the rim is a smeared ring, and the handle and the spoon are shapeless
# blobs. Going below about 256 px loses the objects rather than adding style.

# %%
import ipywidgets as widgets

from animegan_edu.studio.live import show_live

photo = photos["coffee"]

def show(size=256, strength=1.0):
    settings = StudioSettings(size=size, strength=strength, grade="neutral")
    r = render(photo, model, settings)
    plt.figure(figsize=(5, 3.6))
    plt.imshow(r.result[0].permute(1, 2, 0))
    plt.axis("off")
    plt.title(f"size {size} px, strength {strength:.2f}  ({r.seconds:.2f} s)")
    plt.show()

# each change re-runs the generator (0.3-2 s): the sliders report when released
size_slider = widgets.IntSlider(256, 128, 768, 64, description="size",
                                continuous_update=False)
strength_slider = widgets.FloatSlider(1.0, min=0.0, max=1.0, step=0.05,
                                      description="strength", continuous_update=False)
ui = widgets.interactive(show, size=size_slider, strength=strength_slider)
show_live(ui, text="[sliders: run this cell in JupyterLab; the grid below shows them]")

# %%
# The same controls as a static grid, for readers without a kernel.
fig, axes = plt.subplots(2, 3, figsize=(12, 6))
for col, strength in enumerate((0.0, 0.5, 1.0)):
    r = render(photo, model, StudioSettings(size=256, strength=strength, grade="neutral"))
    axes[0, col].imshow(r.result[0].permute(1, 2, 0))
    axes[0, col].set_title(f"strength {strength}")
for col, size in enumerate((128, 256, 512)):
    r = render(photo, model, StudioSettings(size=size, grade="neutral"))
    axes[1, col].imshow(r.result[0].permute(1, 2, 0))
    axes[1, col].set_title(f"size {size} px")
for ax in axes.flat:
    ax.axis("off")
plt.tight_layout()

# %% [markdown]
# ## 4 · Public weights, when you have them
#
# The registry lists every known model; those cached on this machine can be compared side by
# side. Three ship with the toolkit and are always there: `demo`, and `wesnoth` and `hedgewars`
# (the demo weights fine-tuned towards painted art and towards flat cartoons, notebook 09).
# Public models join them once downloaded.

# %%
from animegan_edu.weights.hub import load_generator
from animegan_edu.weights.registry import AnimeGANv2Weights, is_cached

cached = [w for w in AnimeGANv2Weights if is_cached(w)]
print("cached weights:", ", ".join(w.key for w in cached) or "none")
if len(cached) > 1:
    fig, axes = plt.subplots(1, len(cached), figsize=(4 * len(cached), 4), dpi=110)
    for ax, w in zip(axes, cached):
        generator = load_generator(w, download=False)
        r = render(photos["astronaut"], generator, StudioSettings(size=384, grade="neutral"))
        ax.imshow(r.result[0].permute(1, 2, 0))
        ax.set_title(w.key)
        ax.axis("off")
else:
    print("Download a public model to compare: animegan-edu weights download face_paint_512_v2")

# %% [markdown]
# ## Summary
#
# * `get_generator()` picks weights offline and says which.
# * `render()` is photo in, picture out: resize, generator on `[-1, 1]`, back to `[0, 1]`,
#   style strength, grade.
# * Strength and size are the two most useful knobs.

# %% [markdown]
# ## References
#
# * 张小明 (Zhang Xiaoming). "AnimeGANv2技术揭秘:新海诚风格光影效果的实现" (*AnimeGANv2 revealed:
#   how the Makoto Shinkai light-and-shadow look is made*), online technical article: the text this
#   toolkit grew from.
# * Chen, J., Liu, G., Chen, X. (2019). "AnimeGAN: A Novel Lightweight GAN for Photo Animation". ISICA 2019.
# * Chen, J. (2020). AnimeGANv2, the TachibanaYoshino/AnimeGANv2 project (the improved generator,
#   losses and released weights).
# * Chen, Y., Lai, Y.-K., Liu, Y.-J. (2018). "CartoonGAN: Generative Adversarial Networks for Photo
#   Cartoonization". CVPR 2018.

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
from animegan_edu.teaching import exercises_models as exercises

# %% [markdown]
# **1 · Into the generator's range.** `render` feeds the generator pixels in [-1, 1], not [0, 1].
# Write `to_gen(x01)` that maps a `(N, 3, H, W)` tensor in [0, 1] to [-1, 1] (0 -> -1, 0.5 -> 0, 1 ->
# 1).

# %%
def to_gen(x01):
    return None  # your code here

exercises.check_to_generator_range(to_gen)

# %% [markdown]
# **2 · The strength slider.** Write `blend(photo, stylised, s)`: `s = 0` returns the photo, `s = 1`
# the stylised picture, and values in between move in a straight line from one to the other (both
# tensors in [0, 1]).

# %%
def blend(photo, stylised, s):
    return None  # your code here

exercises.check_blend_strength(blend)
