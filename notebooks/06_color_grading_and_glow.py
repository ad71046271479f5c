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
# # 06 · Colour grading and glow: the Shinkai look, done right
#
# Makoto Shinkai's films are recognisable by their light: clear cyan skies, saturated colour,
# soft glow around highlights. The article this toolkit grew from, 张小明,
# "AnimeGANv2技术揭秘:新海诚风格光影效果的实现" (in English: *AnimeGANv2 revealed: how the Makoto
# Shinkai light-and-shadow look is made*), adds this look after the generator with a small
# "colour grade" and a "glow" filter. Its code has slips worth learning from; this notebook
# takes each control on its own, shows what it does to the pixels, and ends with the presets of
# `animegan_edu.inference.grading`.
#
# Everything here works on images in **[0, 1]**, RGB, shaped `(N, 3, H, W)`. Generator outputs are
# in [-1, 1]: convert them with `animegan_edu.imageio.from_generator_range` first.

# %%
import ipywidgets as W
import matplotlib.pyplot as plt
import torch

from animegan_edu import viz
from animegan_edu.inference import grading as G
from animegan_edu.inference import pipeline
from animegan_edu.inference.grading_modules import ChannelGains
from animegan_edu.samples import sample_photo01
from animegan_edu.studio.live import show_live
from animegan_edu.weights.hub import get_generator

torch.manual_seed(0)
viz.projector_style()  # figures at 110 dpi, 12 pt labels: readable on a projector
from matplotlib_inline.backend_inline import set_matplotlib_formats

set_matplotlib_formats("jpeg")  # photos: JPEG keeps the saved notebook small


astro, coffee, rocket, chelsea = (  # (1, 3, H, W) in [0, 1], longest side 256
    sample_photo01(n, 256)[None] for n in ("astronaut", "coffee", "rocket", "chelsea")
)


def show(ax, x, title):
    # draw a (1, 3, H, W) picture in [0, 1] on `ax`, with a title and no axes
    ax.imshow(x[0].permute(1, 2, 0).clamp(0, 1).numpy())
    ax.set_title(title)
    ax.axis("off")


print(astro.shape, coffee.shape, rocket.shape)


# %% [markdown]
# ## 1 · Channel order: channel 0 is red
#
# A tensor from a PIL image or `torchvision` is RGB: `x[:, 0]` is **red**, `x[:, 2]` is blue (OpenCV
# reads BGR, which is where the mix-up usually comes from). Per-channel histograms make the
# channels visible:


# %%
channels = [astro[0, c] for c in range(3)]
viz.image_row([astro[0], *channels],
              ["astronaut", "channel 0 = red", "channel 1 = green", "channel 2 = blue"],
              height_px=256, colorbar_label="channel value (0-1)")
plt.show()


# %% [markdown]
# ## 2 · The article's grade, as printed
#
# Here is the article's function, copied only to show what it does (the library never uses it):


# %%
def apply_color_grade_article(
    image,
):  # the article's code, verbatim apart from line breaks
    image[:, 0, :, :] *= 1.1  # "Blue channel boost"   <- channel 0 is RED
    image[:, 1, :, :] *= 1.05  # "Green slight adjust"
    image = (
        torch.sigmoid((image - 0.5) * 2.0) * 2.0 - 1.0
    )  # a [0, 1] curve applied to [-1, 1] values
    return torch.clamp(image, -1, 1)


# %% [markdown]
# Three problems:
#
# 1. `image[:, 0] *= 1.1` boosts **red** while the comment says blue: the "clear sky" turns warmer.
# 2. The sigmoid curve is centred at 0.5, which suits [0, 1] values, but the tensor is in [-1, 1]
#    (it goes on to clamp to [-1, 1]). Black and white do not stay black and white:
# 3. `*=` works in place: it changes the caller's tensor, and autograd refuses in-place changes
#    of a leaf that needs gradients.

# %% tags=["nbval-check-output"]
ends = torch.tensor([-1.0, 0.0, 1.0])
print(
    "article's curve on [-1, 1] inputs -1, 0, 1 ->",
    [round(v, 3) for v in (torch.sigmoid((ends - 0.5) * 2.0) * 2.0 - 1.0).tolist()],
)
x = torch.full((1, 3, 1, 1), 0.5)
apply_color_grade_article(x)
print(
    "the caller's grey pixel after the call:",
    [round(v, 3) for v in x.flatten().tolist()],
)

# %%
as_gen = astro.clone() * 2 - 1  # generator range, as the article assumes
article = (
    apply_color_grade_article(as_gen.clone()) + 1
) / 2  # back to [0, 1] for display
fixed = G.sigmoid_contrast(
    G.channel_gains(astro, (1.0, 1.05, 1.1)), 2.0
)  # blue and green boosted, a [0, 1] S-curve
swapped = G.channel_gains(astro, (1.1, 1.05, 1.0))  # what "channel 0" really boosts

viz.image_row([astro[0], article[0].clamp(0, 1), fixed[0]],
              ["photo", "article's grade:\ndark, grey, warm",
               "fixed: gains (1, 1.05, 1.1)\n+ S-curve"],
              height_px=300)
plt.show()
fig, axes = viz.figure(1, 3, figsize=(13, 3.8), sharey=True)
viz.rgb_histograms(axes[0], astro, "photo")
viz.rgb_histograms(axes[1], article.clamp(0, 1), "article: squeezed into [0.05, 0.73]",
                   legend=False)
viz.rgb_histograms(axes[2], fixed, "fixed: blue shifted right,\nfull range",
                   legend=False)
fig.tight_layout()
plt.show()
print(
    "mean R, G, B of the photo      :",
    [round(v, 3) for v in astro.mean((0, 2, 3)).tolist()],
)
print(
    "gains (1.1, 1.05, 1.0), the bug:",
    [round(v, 3) for v in swapped.mean((0, 2, 3)).tolist()],
)

# %% [markdown]
# ## 3 · Per-channel gains
#
# `channel_gains(x, (r, g, b))` multiplies each channel and clips to [0, 1]; the gains are named
# in RGB order. Raising blue and a little green cools the picture, as a clear sky does, but only
# where there is blue to multiply: in the strip below, the white cup turns bluish while the brown
# table, with little blue in it, barely changes. A strip of values, then a slider to try your own
# (the slider needs a running kernel; the strip is what a saved notebook shows):

# %%
gains = (0.9, 1.0, 1.1, 1.2)
viz.image_row([G.channel_gains(coffee, (1.0, 1.0, b))[0] for b in gains],
              [f"blue gain {b}" for b in gains], height_px=256)
plt.show()


def gains_view(red=1.0, green=1.0, blue=1.1):
    fig, ax = plt.subplots(figsize=(4, 3))
    show(
        ax,
        G.channel_gains(coffee, (red, green, blue)),
        f"gains ({red}, {green}, {blue})",
    )
    plt.show()


def sl(value, lo, hi, step=0.05):
    return W.FloatSlider(
        value=value, min=lo, max=hi, step=step, continuous_update=False
    )


show_live(
    W.interactive(
        gains_view,
        red=sl(1.0, 0.5, 1.5),
        green=sl(1.0, 0.5, 1.5),
        blue=sl(1.1, 0.5, 1.5),
    )
)

# %% [markdown]
# ## 4 · The S-curve
#
# A contrast curve should leave black at 0 and white at 1 and steepen the middle. The logistic
# sigmoid, shifted and rescaled so its ends land on 0 and 1, does that:
# $f(x) = \frac{s(k(x-\frac12)) - s(-\frac k2)}{s(\frac k2) - s(-\frac k2)}$; $k$ is the slope and
# $k \to 0$ gives the straight line. `sigmoid_contrast` computes it in a tanh form that stays
# exact for small $k$.

# %% tags=["nbval-check-output"]
ramp = torch.linspace(0, 1, 5).view(1, 1, 1, 5).expand(1, 3, 1, 5)
for k in (0.0, 2.0, 4.0, 8.0):
    print(
        f"k = {k}:",
        [round(v, 3) for v in G.sigmoid_contrast(ramp, k)[0, 0, 0].tolist()],
    )

# %%
xs = torch.linspace(0, 1, 256).view(1, 1, 1, -1).expand(1, 3, 1, 256)
fig, ax = viz.figure(figsize=(5.5, 4))
for k in (0.0, 2.0, 4.0, 8.0):
    ax.plot(xs[0, 0, 0], G.sigmoid_contrast(xs, k)[0, 0, 0], label=f"k = {k}")
ax.set_xlabel("input value")
ax.set_ylabel("output value")
ax.set_aspect("equal")
ax.set_title("the S-curve")
viz.legend_outside(ax)
plt.show()
ks = (0.0, 4.0, 8.0)
viz.image_row([G.sigmoid_contrast(chelsea, k)[0] for k in ks],
              [f"contrast k = {k}" for k in ks], height_px=256)
plt.show()


def contrast_view(k=3.0):
    show(plt.subplots(figsize=(4, 3))[1], G.sigmoid_contrast(chelsea, k), f"k = {k}")
    plt.show()


show_live(W.interactive(contrast_view, k=sl(3.0, 0, 12, step=0.5)))

# %% [markdown]
# ## 5 · Saturation
#
# `adjust_saturation_luma` moves every pixel away from (or towards) its own grey, the luma
# $Y = 0.299R + 0.587G + 0.114B$: $Y + s(x - Y)$. Unlike a round trip through HSV it has a gradient
# everywhere (hue is undefined on greys), and $s = 1$ is exactly the identity.

# %%
levels = (0.0, 0.6, 1.0, 1.5)
viz.image_row([G.adjust_saturation_luma(coffee, s)[0] for s in levels],
              [f"saturation {s}" for s in levels], height_px=256)
plt.show()


def saturation_view(s=1.2):
    show(
        plt.subplots(figsize=(4, 3))[1], G.adjust_saturation_luma(coffee, s), f"s = {s}"
    )
    plt.show()


show_live(W.interactive(saturation_view, s=sl(1.2, 0, 2)))

# %% [markdown]
# ## 6 · CLAHE: local contrast
#
# The article preprocesses its training frames with CLAHE (contrast-limited adaptive histogram
# equalisation): the picture is cut into tiles, each tile's histogram is equalised with its peaks
# clipped (the clip limit stops noise from being amplified in flat areas), and neighbouring tiles
# are blended. We use kornia's `equalize_clahe`, on the **luma only**: equalising R, G and B
# separately would change the hues. Here on a hazy version of the cat picture:

# %%
hazy = 0.45 + 0.35 * chelsea
per_channel = __import__("kornia").enhance.equalize_clahe(hazy, clip_limit=3.0)
on_luma = G.clahe_luma(hazy, 1.0, clip_limit=3.0)
half = G.clahe_luma(hazy, 0.5, clip_limit=3.0)
versions = (hazy, per_channel, on_luma, half)
viz.image_row([v[0].clamp(0, 1) for v in versions],
              ["hazy", "CLAHE on R, G, B:\nhues shift", "CLAHE on luma",
               "luma CLAHE,\namount 0.5"],
              height_px=256)
plt.show()
fig, axes = viz.figure(1, 4, figsize=(15, 3.8), sharey=True)
for ax, v, t in zip(axes, versions, ("hazy", "per channel", "on luma", "amount 0.5")):
    viz.rgb_histograms(ax, v.clamp(0, 1), t, legend=ax is axes[0])
fig.tight_layout()
plt.show()


# %%
def clahe_view(amount=1.0, clip=3.0):
    picture = G.clahe_luma(hazy, amount, clip_limit=clip)
    show(plt.subplots(figsize=(4, 3))[1], picture, f"amount {amount}, clip {clip}")
    plt.show()


show_live(
    W.interactive(clahe_view, amount=sl(1.0, 0, 1), clip=sl(3.0, 0.5, 10, step=0.5))
)

# %% [markdown]
# ## 7 · Glow
#
# Light spilling around bright areas: blur the picture, keep only where the blurred picture is
# brighter than a threshold, and add that light back. The article wrote
# `highlight = torch.where(blur > 0.8, blur, 0); img + highlight * weight`: a hard cut (a visible
# ring where the blur crosses 0.8, and no gradient) and an addition that runs past white.
# `glow_mask` uses a ramp instead, $m = \mathrm{clip}((Y_{blur} - t)/(w - t), 0, 1)$, where $w$ is the
# picture's own white point (the 99.5th percentile of $Y_{blur}$) and $t = \max(\text{threshold}\cdot w,
# \mathrm{median}(Y_{blur}))$, so a dim stylised picture still glows where it is brightest; `glow` blends
# either by adding (clipped) or by *screen*, $1 - (1 - x)(1 - a\,h)$, which brightens the same way
# but can never pass 1.

# %%
import kornia

blur = kornia.filters.gaussian_blur2d(rocket, (15, 15), (2.0, 2.0))
article_glow = rocket + torch.where(blur > 0.8, blur, torch.zeros_like(blur)) * 0.3
mask = G.glow_mask(rocket, threshold=0.5, radius=0.02)
screen = G.glow(rocket, 1.0, threshold=0.5, mode="screen")[0]
added = G.glow(rocket, 1.0, threshold=0.5, mode="add")[0]
viz.image_row([rocket[0], mask[0, 0], screen, added],
              ["rocket at dusk", "highlight mask\n(threshold 0.5)", "glow 1.0, screen",
               "glow 1.0, add"], height_px=256, ncols=2, cmap="magma",
              colorbar_label="highlight mask (0-1)")
plt.show()

# %% tags=["nbval-check-output"]
print(
    "article's glow: values above 1:",
    int((article_glow > 1).sum()),
    "of",
    article_glow.numel(),
)
print(
    "library glow, add and screen: max",
    round(float(G.glow(rocket, 1.0, 0.5, mode="add").max()), 3),
    round(float(G.glow(rocket, 1.0, 0.5).max()), 3),
)


# %%
def glow_view(amount=0.8, threshold=0.5, radius=0.02):
    picture = G.glow(rocket, amount, threshold, radius)
    show(plt.subplots(figsize=(4, 3))[1], picture, f"glow {amount}")
    plt.show()


radius_slider = W.FloatSlider(
    value=0.02,
    min=0.005,
    max=0.08,
    step=0.005,
    continuous_update=False,
    readout_format=".3f",
)
show_live(
    W.interactive(
        glow_view,
        amount=sl(0.8, 0, 2, step=0.1),
        threshold=sl(0.5, 0, 0.95),
        radius=radius_slider,
    )
)

# %% [markdown]
# ## 8 · Presets: one parameters object
#
# `GradeParams` holds every setting; `color_grade` applies CLAHE, gains, curve, saturation and
# glow in that order. `PRESETS["neutral"]` is exactly the identity. `PRESETS["shinkai"]` is the
# article's recipe with its slips fixed: the gains raise blue and green (not red), the S-curve keeps
# black and white in place, and the glow cannot pass white. `scaled(a)` moves every strength from
# neutral (0) to the preset (1).

# %% tags=["nbval-check-output"]
print(G.PRESETS["shinkai"])
print("neutral is the identity:", torch.equal(G.color_grade(astro, "neutral"), astro))

# %%
# the generator's cat: a public model if this machine has one, else the bundled demo weights
model, note = get_generator()
print(note)
# cat.photo: the photo, cat.raw: the generator's stylised cat, (1, 3, H, W) in [0, 1]
cat = pipeline.run(chelsea, model, path="fp32_eager")

amounts = (0.0, 0.5, 1.0, 1.5)
graded = [G.color_grade(x, G.PRESETS["shinkai"].scaled(a))[0]
          for x in (coffee, rocket, chelsea) for a in amounts]
# the pipeline's last step grades a generator output the same way (strength 1: the stylised cat)
graded += [pipeline.finish(cat.photo, cat.raw, grade="shinkai", grade_amount=a)[0]
           for a in amounts]
titles = [f"shinkai x {a}" for _ in range(3) for a in amounts]
titles += [f"generator's cat,\nshinkai x {a}" for a in amounts]
viz.image_row(graded, titles, height_px=256, ncols=4)
plt.show()

# %% [markdown]
# Only one step of the preset cools: the gains, +8% on blue and +3% on green (printed above). The
# S-curve (`contrast=3.0`) and the saturation (`saturation=1.2`) strengthen whatever colour a picture
# already has, and on these photos they win. The coffee and the cat, both orange-brown, come out
# **more orange**, with deeper shadows and brighter highlights; only the rocket, whose dusk sky is
# already blue, turns a deeper blue. At x 1.5 each picture moves further the same way. So the preset
# does not cool a warm photo: it makes colours more vivid and contrasted, with a slight lean towards
# blue that shows only where blue is already present. To cool a warm picture, raise the blue gain
# further (section 3) or lower the saturation (section 5).
#
# The last row is what the preset is for: a generator output. `pipeline.run` stylises the cat photo
# (the note printed above says which weights), and `pipeline.finish`, the pipeline's last step, grades
# it the way `animegan-edu stylize --grade shinkai` does. The generator has already made the cat
# warmer and flatter than the photo; the grade does to it what it does to the photos: the orange fur
# turns a stronger orange, the dark outlines and stripes get darker and the pale background brighter.
# It does not cool the stylised cat either.
# %% [markdown]
# ## 9 · Style strength
#
# `blend_strength(photo, stylised, s)` mixes the photo and the generator's output. The studio and
# `animegan-edu stylize --strength S` blend first and grade afterwards. Here between the cat photo and
# the generator's cat from section 8 (no grade): at 0.33 the picture is still the photo, a little
# warmer, with the generator's outlines faint around the eyes; at 0.66 the dark outlines and the flat
# orange patches dominate and the photo's fur texture shows through them; at 1.0 it is the
# generator's output alone.

# %%
strengths = (0.0, 0.33, 0.66, 1.0)
viz.image_row([G.blend_strength(cat.photo, cat.raw, s)[0] for s in strengths],
              [f"strength {s}" for s in strengths], height_px=256)
plt.show()

# %% [markdown]
# ## 10 · Differentiable: the grade can be learnt
#
# Every step except CLAHE's fast path passes gradients to the image and to its parameters (CLAHE
# counts pixels into integer histogram bins; `clahe_luma(..., differentiable=True)` selects kornia's
# slower soft-histogram version). So a grade can sit after the generator during training, or be
# fitted: here we recover the Shinkai gains from a graded picture.

# %% tags=["nbval-check-output"]
from torch.autograd import gradcheck

tiny = (0.3 + 0.4 * torch.rand(1, 3, 4, 4, dtype=torch.float64)).requires_grad_()
print(
    "gradcheck, curve + saturation + glow:",
    gradcheck(
        lambda x: G.glow(
            G.adjust_saturation_luma(G.sigmoid_contrast(x, 3.0), 1.2), 0.3, 0.0, 0.2
        ),
        (tiny,),
    ),
)

torch.manual_seed(0)
small = torch.nn.functional.interpolate(coffee, scale_factor=0.25, mode="area")
target = G.channel_gains(small, (1.0, 1.03, 1.08))
learn = ChannelGains(learnable=True)
opt = torch.optim.Adam(learn.parameters(), lr=0.01)
for step in range(100):
    loss = (learn(small) - target).abs().mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
print("learnt gains:", [round(v, 2) for v in learn.gains.tolist()])

# %% [markdown]
# ## Summary
#
# * RGB tensors: channel 0 is red. The article's "blue" boost warmed the picture; its sigmoid, meant
#   for [0, 1], darkened and greyed a [-1, 1] picture; and its in-place `*=` changed the caller's data.
# * The grade is a chain of small differentiable steps (gains, S-curve, saturation, glow) plus CLAHE
#   on the luma, each a function and an `nn.Module`, all settings in one `GradeParams`.
# * Glow = blur, soft highlight mask, screen (or clipped add) blend.
# * The `shinkai` preset makes colours more vivid and contrasted with a slight lean towards blue;
#   on warm photos (the coffee, the cat) and on the generator's stylised cat the saturation wins and
#   they come out more orange, not cooler.
# * Everything stays in [0, 1]; `neutral` is exactly the identity; on the command line:
#   `animegan-edu stylize --grade shinkai --glow 0.5 --strength 0.8`.

# %% [markdown]
# ## References
#
# * 张小明 (Zhang Xiaoming). "AnimeGANv2技术揭秘:新海诚风格光影效果的实现" (*AnimeGANv2 revealed:
#   how the Makoto Shinkai light-and-shadow look is made*), online technical article: the text this
#   toolkit grew from.
# * ITU-R Recommendation BT.601, "Studio encoding parameters of digital television" (the luma
#   weights 0.299, 0.587, 0.114).
# * Zuiderveld, K. (1994). "Contrast Limited Adaptive Histogram Equalization". Graphics Gems IV.

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
# **1 · Luma.** Write `my_luma(image)`: the Rec. 601 luma `(N, 1, H, W)` of an RGB image `(N, 3, H,
# W)` in [0, 1], with weights 0.299, 0.587 and 0.114 for red, green and blue.


# %%
def my_luma(image):
    return None  # your code here


exercises.check_luma(my_luma)

# %% [markdown]
# **2 · The article's colour boost, done right.** Write `boost_blue(image, gain)`: multiply the
# **blue** channel of an RGB image in [0, 1] by `gain`, clip to [0, 1], and leave the caller's tensor
# unchanged (section 2 shows what goes wrong otherwise).


# %%
def boost_blue(image, gain):
    return None  # your code here


exercises.check_blue_boost(boost_blue)
