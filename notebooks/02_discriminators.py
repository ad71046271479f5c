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
# # 02 · Discriminators: what the critic sees
#
# AnimeGANv2 trains its generator against a **discriminator** $D$: a network that looks at an
# image and says "real anime frame" (score 1) or "not one" (score 0). This notebook opens up
# the discriminator of `animegan_edu.models`:
#
# 1. **Patch scores**: $D$ outputs a grid of scores, one per patch, not one number per image.
# 2. **Receptive field**: how large a patch one score looks at, drawn on a real photo.
# 3. **Spectral normalisation**: what it does to the largest singular value of each weight.
# 4. **Why edge-smoothed anime is "fake"**: a tiny seeded training run, sharp vs smoothed.
# 5. **The multi-scale variant** of the article this toolkit grew from, 张小明,
#    "AnimeGANv2技术揭秘:新海诚风格光影效果的实现" (in English: *AnimeGANv2 revealed: how the Makoto
#    Shinkai light-and-shadow look is made*): three discriminators at three scales.
#
# Everything runs on the CPU in well under a minute, with fixed seeds.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from animegan_edu import viz
from animegan_edu.data.dataset import cartoonize, edge_smooth
from animegan_edu.imageio import to_generator_range
from animegan_edu.models import (
    Discriminator,
    MultiScaleDiscriminator,
    count_macs,
    count_parameters,
    receptive_field,
)
from animegan_edu.samples import sample_photo01
from animegan_edu.training.losses import lsgan_d_loss

torch.manual_seed(0)
viz.projector_style()  # figures at 110 dpi, 12 pt labels: readable on a projector
plt.rcParams["image.interpolation"] = "nearest"  # one flat square per patch score
t_start = time.perf_counter()

# The astronaut photo (NASA, public domain) at 256 x 256,
# as a (1, 3, H, W) tensor in [0, 1].
astronaut = sample_photo01("astronaut", 256, square=True)[None]

# %% tags=["nbval-check-output"]
print("astronaut:", tuple(astronaut.shape),
      "range", float(astronaut.min()), "to", float(astronaut.max()))

# %% [markdown]
# ## 1. A patch discriminator outputs a grid of scores
#
# The AnimeGANv2 discriminator is a *PatchGAN*: a stack of 3x3 convolutions, three of them
# with stride 2, and **no** final pooling or linear layer. A 256 x 256 input therefore gives a
# 32 x 32 map of scores (256 / 2³), each one the verdict on one region of the image. The
# loss averages over the map, so $D$ is judged on *every* patch: it cannot call an image real
# because its average looks right while one corner is blurry.
#
# In the original recipe the discriminator has 64 base channels, 3 stride-2 stages and
# spectral normalisation on every convolution: `Discriminator()` with its defaults.

# %% tags=["nbval-check-output"]
D = Discriminator()  # ch=64, n_layers=3, spectral_norm=True
D.eval()
with torch.no_grad():
    scores = D(to_generator_range(astronaut))
print("parameters:", f"{count_parameters(D):,}")
print("MACs for one 256 x 256 image:", f"{count_macs(D, 256) / 1e9:.2f} G")
print("input", tuple(astronaut.shape), "-> score map", tuple(scores.shape))


# %% [markdown]
# An untrained discriminator's scores mean nothing yet, but the picture already shows the
# shape of its answer: one coloured square per patch, laid over the photo. (After training,
# below, the same kind of map will light up where the image looks "fake".)

# %%
# viz.overlay stretches the (1, 1, 32, 32) score map over the (1, 3, 256, 256) photo
fig, axes = viz.figure(1, 2, figsize=(10, 4.6))
axes[0].imshow(astronaut[0].permute(1, 2, 0).numpy())
axes[0].set_title("input 256 x 256")
axes[0].axis("off")
viz.overlay(axes[1], astronaut, scores, "D score (untrained)",
            title=f"untrained D: {scores.shape[-2]} x {scores.shape[-1]} scores")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 2. The receptive field: how large is one patch?
#
# Which input pixels can one score depend on? For a chain of convolutions there is a simple
# recurrence. Keep two numbers: the receptive field `rf` (in input pixels) and the `jump`
# (how many input pixels one step in the current feature map covers). A convolution with
# kernel $k$ and stride $s$ updates them as
#
# $$ rf \leftarrow rf + (k - 1)\cdot jump, \qquad jump \leftarrow jump \cdot s. $$
#
# We walk the discriminator's convolutions in order (a loop, no library needed):

# %% tags=["nbval-check-output"]
rf, jump = 1, 1
for m in D.modules():
    if isinstance(m, nn.Conv2d):
        k, s = m.kernel_size[0], m.stride[0]
        rf, jump = rf + (k - 1) * jump, jump * s
        print(f"conv {k}x{k} stride {s}: receptive field {rf:3d} px, jump {jump} px")
print("one score sees", rf, "x", rf, "pixels;",
      "neighbouring scores are", jump, "pixels apart")

# %% [markdown]
# The library's `receptive_field(model, size)` measures the same thing empirically: it
# back-propagates from the centre score to the input and returns $|\partial\,\text{score} /
# \partial\,\text{input}|$ (on a copy with positive weights and no normalisation layers, so
# nothing cancels). Its non-zero region should be exactly the `rf` above, and it is not
# uniform: pixels near the centre reach the score through many more paths than pixels at the
# border, so the *effective* receptive field is a soft blob much smaller than the square.

# %% tags=["nbval-check-output"]
rf_map = receptive_field(D, size=128)  # (128, 128), max 1
rows, cols = torch.nonzero(rf_map > 0, as_tuple=True)
print("non-zero extent:", int(rows.max() - rows.min() + 1), "x",
      int(cols.max() - cols.min() + 1), "px")
print("share of the gradient inside the central 25 x 25 px:",
      round(float(rf_map[52:77, 52:77].sum() / rf_map.sum()), 3))

# %% [markdown]
# Now draw it on the photo: the square one score at row 13, column 13 of the 32 x 32 map
# looks at (the output cell $i$ is centred near input pixel $8i + 4$), with the gradient
# blob inside it.

# %%
from matplotlib.patches import Rectangle

cell = (13, 13)
cy, cx = cell[0] * jump + jump // 2, cell[1] * jump + jump // 2
fig, axes = viz.figure(1, 2, figsize=(10.5, 4.6))
viz.heatmap(axes[0], rf_map, "|d score / d input|\n(scaled to max 1)", cmap="magma",
            title="gradient of one score\n(128 x 128 probe)")
axes[1].imshow(astronaut[0].permute(1, 2, 0).numpy())
blob = np.zeros((256, 256))
y0, x0 = cy - 64, cx - 64
top, left = max(y0, 0), max(x0, 0)
window = rf_map.numpy()[max(-y0, 0):, max(-x0, 0):][:256 - top, :256 - left]
blob[top:y0 + 128, left:x0 + 128] = window
axes[1].imshow(np.ma.masked_less(blob, 0.02), cmap="magma", alpha=0.6, vmin=0, vmax=1)
axes[1].add_patch(Rectangle((cx - rf / 2, cy - rf / 2), rf, rf,
                            fill=False, lw=2, ec="yellow"))
axes[1].set_title(f"score {cell} sees this\n{rf} x {rf} patch (yellow)")
axes[1].axis("off")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 3. Spectral normalisation pins the largest singular value to 1
#
# A GAN discriminator that can change its output a lot for a tiny change of input gives the
# generator huge, erratic gradients. Spectral normalisation (Miyato et al., 2018) bounds this:
# it divides every weight by its **largest singular value** $\sigma_{\max}$, so each layer
# stretches any input vector by at most 1 (LeakyReLU stretches by at most 1 too).
#
# For a convolution, PyTorch reshapes the weight `(out, in, kh, kw)` to a matrix
# `(out, in·kh·kw)` and normalises that matrix. (Strictly, the Lipschitz constant of the
# convolution *operator* can be a few times larger than this matrix's $\sigma_{\max}$; SN is a
# cheap proxy, and it works well in practice.)
#
# First the exact value, from an SVD:

# %% tags=["nbval-check-output"]
torch.manual_seed(0)
conv = nn.Conv2d(32, 64, 3, padding=1)
W = conv.weight.detach().reshape(64, -1)  # (64, 288)
sigma_true = torch.linalg.matrix_norm(W, ord=2)
print("weight", tuple(conv.weight.shape), "-> matrix", tuple(W.shape))
print("largest singular value:", round(float(sigma_true), 4))

# %% [markdown]
# (An SVD is exact but slow for the wide `(512, 4608)` matrices of the full discriminator;
# below we get the same number as $\sqrt{\lambda_{\max}(W W^\top)}$, from a small symmetric
# eigenvalue problem.)
#
# SN itself estimates $\sigma_{\max}$ with **power iteration**: keep a vector $v$, and repeat
# $u \leftarrow W v / \lVert W v\rVert$, $v \leftarrow W^\top u / \lVert W^\top u\rVert$; then
# $\hat\sigma = u^\top W v$ (the order PyTorch uses). Here are the iterations by hand, from a random start:

# %% tags=["nbval-check-output"]
v0 = torch.randn(288, generator=torch.Generator().manual_seed(1))
v0 = v0 / v0.norm()
v = v0.clone()
estimates = []
for it in range(25):
    u = W @ v
    u = u / u.norm()
    v = W.T @ u
    v = v / v.norm()
    estimates.append(float(u @ W @ v))
print("estimates at iterations 1, 5, 10, 25:",
      [round(estimates[i], 3) for i in (0, 4, 9, 24)])
s = torch.linalg.svdvals(W)
print("exact:", round(float(sigma_true), 3),
      "| second singular value:", round(float(s[1]), 3))

# %% [markdown]
# The estimate approaches $\sigma_{\max}$ from below, and slowly here: the error shrinks
# like $(\sigma_2/\sigma_1)^{2k}$, and a freshly initialised random weight has
# $\sigma_2 \approx \sigma_1$. PyTorch nevertheless runs only **one** iteration per forward pass
# in training mode: it keeps $u$ and $v$ as buffers, so the iterations accumulate over
# training steps while the weights change slowly.
#
# Now the real thing: `torch.nn.utils.parametrizations.spectral_norm` replaces `conv.weight`
# by $W / \hat\sigma$. It runs 15 iterations when it is attached. To watch it work, we restart
# its vector $v$ (the private buffer `_v`) at the same `v0` as above, call the layer in
# training mode (one iteration per call), and read the normalised weight in eval mode (no
# iteration). Each value is $\sigma_{\max}/\hat\sigma_k$: the hand-run loop, exactly.

# %% tags=["nbval-check-output"]
import copy


def sigma_of(module):
    # Largest singular value of the weight as a matrix (out, in*kh*kw):
    # the square root of the top eigenvalue of W W^T.
    w = module.weight.detach().double().reshape(module.weight.shape[0], -1)
    return float(torch.linalg.eigvalsh(w @ w.T)[-1].sqrt())

sn_conv = nn.utils.parametrizations.spectral_norm(copy.deepcopy(conv))
sn_conv.eval()
print("without SN:", round(sigma_of(conv), 3),
      "| with SN, as attached (15 iterations):", round(sigma_of(sn_conv), 3))

with torch.no_grad():
    sn_conv.parametrizations.weight[0]._v.copy_(v0)
x = torch.randn(1, 32, 8, 8)
sn_sigmas = []
for step in range(25):
    sn_conv.train()
    with torch.no_grad():
        sn_conv(x)  # one power iteration
    sn_conv.eval()
    sn_sigmas.append(sigma_of(sn_conv))
print("sigma_max of W / sigma_hat after 1, 5, 10, 25 passes:",
      [round(sn_sigmas[i], 3) for i in (0, 4, 9, 24)])
print("exact / hand estimate after 25 iterations:",
      round(float(sigma_true) / estimates[24], 3))

# %% [markdown]
# Across a whole discriminator: the largest singular value of every convolution, with and
# without SN (same architecture, seeded). Without SN each layer has whatever gain its
# initialisation gave it, and the gains multiply through the network; with SN every bar sits
# at about 1 (slightly above, since $\hat\sigma$ underestimates).

# %% tags=["nbval-check-output"]
torch.manual_seed(0)
D_plain = Discriminator(spectral_norm=False)
torch.manual_seed(0)
D_sn = Discriminator(spectral_norm=True).eval()
plain = [sigma_of(m) for m in D_plain.modules() if isinstance(m, nn.Conv2d)]
normed = [sigma_of(m) for m in D_sn.modules() if isinstance(m, nn.Conv2d)]
print("without SN:", [round(s, 2) for s in plain])
print("with SN:   ", [round(s, 2) for s in normed])

# %%
fig, axes = viz.figure(1, 3, figsize=(15, 4.4))
axes[0].plot(range(1, 26), estimates, "o-", ms=4, label="hand power\niteration σ̂")
axes[0].axhline(float(sigma_true), color="k", ls="--", label="exact σ_max")
axes[0].set_xlabel("iteration")
axes[0].set_ylabel("estimate of σ_max")
axes[0].legend(loc="lower right")
axes[0].set_title("σ̂ creeps up to σ_max")
axes[1].plot(range(1, 26), sn_sigmas, "s-", ms=4, color="C2")
axes[1].axhline(1.0, color="gray", ls=":")
axes[1].set_xlabel("training-mode forward passes")
axes[1].set_ylabel("σ_max of W / σ̂")
axes[1].set_title("σ_max of spectral_norm's W / σ̂")
idx = np.arange(len(plain))
axes[2].bar(idx - 0.2, plain, 0.4, label="no SN")
axes[2].bar(idx + 0.2, normed, 0.4, label="spectral norm")
axes[2].set_xticks(idx)
axes[2].set_xlabel("conv layer of Discriminator()")
axes[2].set_ylabel("largest singular value")
viz.legend_outside(axes[2])
axes[2].set_title("largest singular value per layer")
fig.tight_layout()
plt.show()


# %% [markdown]
# ## 4. Why AnimeGAN shows its discriminator edge-smoothed anime as "fake"
#
# Anime frames have crisp lines; a generator's first attempts have soft ones. AnimeGAN makes
# this explicit: besides real anime (label 1) and generated images (label 0), the
# discriminator also sees **the same anime frames with their edges blurred** (`edge_smooth`,
# see notebook 03), labelled 0. So "blurry edges" alone is enough to be called fake, and the
# generator is pushed towards sharp lines.
#
# A tiny seeded experiment: our "anime" is `cartoonize` applied to three skimage photos
# (coffee, chelsea, rocket, 160 px long side); the fake is `edge_smooth` of the same picture.
# We train a *small* discriminator of the library (16 channels, one stride-2 stage: cheap,
# and a 29 px receptive field is plenty to see an edge) on random 64 x 64 crops, batch 8,
# with the LSGAN loss `lsgan_d_loss(real, fake)` = mean((D(real) − 1)²) + mean(D(fake)²).
#
# What to expect: most patches contain no edge, so there the sharp and the smoothed crop are
# *identical* and the best $D$ can do is answer 0.5 for both, which costs 0.25 + 0.25. The
# loss therefore cannot go much below **0.5**; the first few steps are spent getting there (the
# scores settle around 0.5), and only then do the few edge patches start to separate.

# %%
with torch.no_grad():  # each photo (1, 3, H, W) in [0, 1], longest side 160
    sharp = [cartoonize(sample_photo01(n, 160)[None]) for n in ("coffee", "chelsea", "rocket")]
    smooth = [edge_smooth(s) for s in sharp]

crop_gen = torch.Generator().manual_seed(0)
def random_crops(batch=8, size=64):
    # The same random crop of the sharp and of the edge-smoothed picture, in [-1, 1].
    real, fake = [], []
    for _ in range(batch):
        i = int(torch.randint(0, len(sharp), (1,), generator=crop_gen))
        h, w = sharp[i].shape[-2:]
        top = int(torch.randint(0, h - size + 1, (1,), generator=crop_gen))
        left = int(torch.randint(0, w - size + 1, (1,), generator=crop_gen))
        real.append(sharp[i][0, :, top:top + size, left:left + size])
        fake.append(smooth[i][0, :, top:top + size, left:left + size])
    return to_generator_range(torch.stack(real)), to_generator_range(torch.stack(fake))


# %% tags=["nbval-check-output"]
torch.manual_seed(0)
d_small = Discriminator(ch=16, n_layers=1)  # spectral norm on, as in the recipe
real, fake = random_crops()
with torch.no_grad():
    print("batch", tuple(real.shape), "-> score maps", tuple(d_small(real).shape))
    print("parameters:", f"{count_parameters(d_small):,}", "| loss before training:",
          round(lsgan_d_loss(d_small(real), d_small(fake)).item(), 3))

# %% [markdown]
# Sixty Adam steps (lr 1e-3). The printed numbers depend on floating-point summation order,
# so they can differ a little with the number of CPU threads; the trend does not.

# %%
opt = torch.optim.Adam(d_small.parameters(), lr=1e-3, betas=(0.5, 0.999))
losses, real_means, fake_means = [], [], []
for step in range(1, 61):
    real, fake = random_crops()
    s_real, s_fake = d_small(real), d_small(fake)
    loss = lsgan_d_loss(s_real, s_fake)
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
    real_means.append(s_real.mean().item())
    fake_means.append(s_fake.mean().item())
    if step in (1, 5, 10, 20, 40, 60):
        print(f"step {step:2d}: loss {loss.item():.3f}",
              f" mean D(sharp) {real_means[-1]:.2f}",
              f" mean D(smoothed) {fake_means[-1]:.2f}")

# %% [markdown]
# The loss fell to near the 0.5 floor within about 8 steps (0.551 at step 10), then crept onto it
# (0.516 at step 20, 0.495 at step 60); the separation after that is small but real. To see *where*
# the discriminator has learned something, score a photo it never saw (the astronaut, cartoonized)
# sharp and edge-smoothed, and map the per-patch difference D(sharp) − D(smoothed). It should be
# positive (sharp judged more real) along the lines, and about zero on flat regions, where the two
# inputs are the same. The cell below prints the share of patches ranked the right way round: 77%
# in the stored run (79% of the patches that edge smoothing changed); it moves by a few points
# with the CPU thread count.

# %%
d_small.eval()
with torch.no_grad():
    astro_small = F.interpolate(astronaut, size=(128, 128), mode="area")
    astro_sharp = cartoonize(astro_small)
    astro_smooth = edge_smooth(astro_sharp)
    gap = (d_small(to_generator_range(astro_sharp))
           - d_small(to_generator_range(astro_smooth)))
changed = (astro_sharp - astro_smooth).abs().amax(1, keepdim=True)
changed_per_patch = F.adaptive_max_pool2d(changed, gap.shape[-2:]) > 0.05
print("score map", tuple(gap.shape))
print("patches where D(sharp) > D(smoothed):", f"{float((gap > 0).float().mean()):.0%}")
print("... among patches that edge smoothing changed:",
      f"{float((gap > 0)[changed_per_patch].float().mean()):.0%}")

# %%
fig, ax = viz.figure(figsize=(7.5, 4))
ax.plot(range(1, 61), losses, label="D loss")
ax.plot(range(1, 61), real_means, label="mean D(sharp)")
ax.plot(range(1, 61), fake_means, label="mean D(smoothed)")
ax.axhline(0.5, color="gray", ls=":", label="0.5")
ax.set_xlabel("step")
ax.set_ylabel("loss / mean score")
viz.legend_outside(ax)
ax.set_title("60 steps, 64 px crops")
plt.show()
lim = float(gap.abs().max())
viz.image_row([astro_sharp[0], astro_smooth[0], gap[0, 0]],
              ["held out: sharp", "edge-smoothed", "D(sharp) − D(smoothed)"],
              height_px=300,
              cmap="coolwarm", vmin=-lim, vmax=lim,
              colorbar_label="score difference\n(> 0: sharp judged more real)")
plt.show()

# %% [markdown]
# Sixty steps on three pictures give a weak but visible detector of soft lines. In real
# training (thousands of steps, 1,000+ frames) this term is what makes the generator draw
# crisp edges instead of smudged ones; its weight is the fourth entry of
# `LossWeights.d_terms` (for example 0.8 for Hayao).
#
# ## 5. The article's multi-scale discriminator
#
# The article adds, next to the global discriminator, two **smaller discriminators that look
# at downscaled copies** of the image (`MultiScaleDiscriminator`): discriminator $k$ sees the
# input average-pooled $k$ times by 2. On a half-size image, a 3x3 convolution covers twice
# as much of the original scene, so the same patch size means a larger region: the three
# score maps judge the image at three scales, from fine texture to layout.

# %% tags=["nbval-check-output"]
torch.manual_seed(0)
# scales=3, ch=64 / n_layers=3, then local_ch=32 / local_layers=2
msd = MultiScaleDiscriminator()
msd.eval()
with torch.no_grad():
    maps = msd(to_generator_range(astronaut))
print("parameters:", f"{count_parameters(msd):,}", "=",
      " + ".join(f"{count_parameters(d):,}" for d in msd.discriminators))
rf_sizes = []
for k, (d, m) in enumerate(zip(msd.discriminators, maps)):
    r = receptive_field(d, size=96 if k == 0 else 48)
    rows, cols = torch.nonzero(r > 0, as_tuple=True)
    own = int(rows.max() - rows.min() + 1)
    rf_sizes.append(own * 2**k)
    print(f"scale {k}: input {256 // 2**k} px -> scores {tuple(m.shape)},",
          f"receptive field {own} px of its input ~ {own * 2**k} px of the original")

# %% [markdown]
# (The last number ignores the extra blur of the 3x3 average pooling, which widens each
# coarser scale's field by a few pixels.) Below: each scale's score map over the photo, with
# the square one of its scores covers in original pixels. The maps are untrained, so the
# colours are arbitrary; what matters is how coarse each grid is and how large its squares are.

# %%
fig, axes = viz.figure(1, 3, figsize=(13.5, 4.4))
for k, (ax, m) in enumerate(zip(axes, maps)):
    viz.overlay(ax, astronaut, m, "D score (untrained)",
                title=f"scale {k}: {m.shape[-2]} x {m.shape[-1]} scores")
    size = rf_sizes[k]
    ax.add_patch(Rectangle((128 - size / 2, 128 - size / 2), size, size,
                           fill=False, lw=2, ec="yellow"))
fig.tight_layout()
plt.show()

# %%
print(f"notebook ran in {time.perf_counter() - t_start:.1f} s")

# %% [markdown]
# ## Summary
#
# * The AnimeGANv2 discriminator is a **PatchGAN**: a 256 px image gets a 32 x 32 grid of
#   scores, and each score sees a **77 x 77 px** patch (jump 8 px), concentrated near its centre.
# * **Spectral normalisation** divides each weight matrix by its largest singular value,
#   estimated by power iteration (one iteration per training step, carried over between
#   steps); every layer then has σ_max ≈ 1, slightly above since the estimate comes from below.
# * Edge-smoothed anime labelled **fake** teaches the discriminator that soft lines are not
#   anime. In our 60-step toy, the loss falls to near the 0.5 floor of identical patches in about 8
#   steps and the sharp/smoothed separation only starts after that, along the lines.
# * The article's **multi-scale** variant adds two small discriminators on 2x and 4x
#   downscaled copies, whose patches cover larger regions of the scene.

# %% [markdown]
# ## References
#
# * 张小明 (Zhang Xiaoming). "AnimeGANv2技术揭秘:新海诚风格光影效果的实现" (*AnimeGANv2 revealed:
#   how the Makoto Shinkai light-and-shadow look is made*), online technical article: the text this
#   toolkit grew from.
# * Chen, J., Liu, G., Chen, X. (2019). "AnimeGAN: A Novel Lightweight GAN for Photo Animation". ISICA 2019.
# * Isola, P. et al. (2017). "Image-to-Image Translation with Conditional Adversarial Networks".
#   CVPR 2017 (the PatchGAN discriminator).
# * Mao, X. et al. (2017). "Least Squares Generative Adversarial Networks". ICCV 2017.
# * Miyato, T. et al. (2018). "Spectral Normalization for Generative Adversarial Networks". ICLR 2018.
# * Luo, W. et al. (2016). "Understanding the Effective Receptive Field in Deep Convolutional Neural
#   Networks". NeurIPS 2016.

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
# **1 · The receptive-field recurrence.** Write `rf(kernels, strides)`: the receptive field (in input
# pixels) of a stack of convolutions with these kernel sizes and strides, in order. The checker
# compares it with `models.receptive_field` measured on such a stack. Then predict the field of
# `Discriminator(n_layers=4)`.

# %%
def rf(kernels, strides):
    return None  # your code here

exercises.check_receptive_field(rf)

# %% [markdown]
# **2 · How many scores?** Write `grid(size)`: the side of the score map that `Discriminator()` (three
# stride-2 3x3 convolutions, padding 1) gives for a `size x size` image, for any size, odd ones
# included.

# %%
def grid(size):
    return None  # your code here

exercises.check_patch_grid(grid)

# %% [markdown]
# **3 · Power iteration.** Write `sigma_max(W)` that estimates the largest singular value of a 2-D
# tensor `W` by power iteration (as spectral normalisation does), to within 1%. Do not call an SVD
# (the checker refuses SVDs, eigenvalue solvers and spectral norms).

# %%
def sigma_max(W):
    return None  # your code here

exercises.check_spectral_sigma(sigma_max)

# %% [markdown]
# **4 · Project (20-30 min): spectral normalisation by power iteration.** A weight `W` is
# `(m, n)`; `u` has `m` entries and `v` has `n`. Write three functions, checked in order:
# (a) `power_step(W, u)` returns the new `(u, v)`: first `v` from `u` through `W.T`, then the new `u`
# from that `v` through `W`, each scaled to length 1; (b) `estimate_sigma(W, u0, k)` runs `k` steps
# from `u0` and returns the estimate of the largest singular value, `u^T W v` with the last `u` and
# `v` (the checker compares it with the exact value it computes itself); (c)
# `spectral_normalise(W, u0, k)` returns `W` divided by that estimate, whose largest singular value
# is then about 1. Vector norms are allowed; SVDs, eigenvalue solvers and spectral norms are refused,
# and so is `torch.nn.utils.spectral_norm`.

# %%
from animegan_edu.teaching import exercises_projects as projects


def power_step(W, u):
    return None  # your code here: (u, v)


def estimate_sigma(W, u0, k):
    return None  # your code here


def spectral_normalise(W, u0, k):
    return None  # your code here


projects.check_power_iteration(power_step, estimate_sigma, spectral_normalise)
