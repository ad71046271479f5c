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
# # 01 · The AnimeGANv2 generator, block by block
#
# AnimeGANv2 turns a photo into an anime-style picture with one small convolutional network,
# the **generator**. In this notebook we build it from its parts, the way the paper describes
# it, and check every step:
#
# 1. the *conv-norm-LReLU* unit it is made of;
# 2. the stride-2 convolutions and their lopsided padding;
# 3. the inverted residual blocks in the middle;
# 4. upsampling by *resize, then convolve*;
# 5. the whole generator: shapes after each block, parameters (2,143,552), cost (FLOPs);
# 6. its receptive field, and a comparison with the ResNet generator printed in the article this
#    toolkit grew from, 张小明, "AnimeGANv2技术揭秘:新海诚风格光影效果的实现" (in English:
#    *AnimeGANv2 revealed: how the Makoto Shinkai light-and-shadow look is made*);
# 7. feature maps as pictures;
# 8. parity with the public PyTorch port, and the original TensorFlow checkpoints.
#
# Conventions used throughout `animegan_edu`: tensors are `(N, C, H, W)`; the generator
# reads and writes RGB in **[-1, 1]**; images shown to you are RGB in [0, 1].

# %%
# %matplotlib inline
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

from animegan_edu import models, viz
from animegan_edu.imageio import (
    from_generator_range,
    pil_to_tensor01,
    resize_longest,
    to_generator_range,
)
from animegan_edu.samples import sample_photo_array
from animegan_edu.weights import hub as weights
from animegan_edu.weights import registry
from animegan_edu.weights.tf import bundle as tf_bundle
from animegan_edu.weights.tf import checkpoint as tf_checkpoint

torch.manual_seed(0)
np.random.seed(0)
viz.projector_style()  # figures at 110 dpi, 12 pt labels: readable on a projector
plt.rcParams["image.interpolation"] = "nearest"  # every pixel of a small map


# %% [markdown]
# ## 1. The unit: pad, convolve, normalise, LeakyReLU
#
# Almost every layer of the generator is the same four-step unit:
#
# * **reflection padding**, so borders are continued by mirroring instead of by zeros (zeros
#   would draw dark frames around every picture);
# * a **convolution without bias** (the normalisation that follows would cancel a bias);
# * a **layer norm** over channels *and* pixels of each image, with a learned scale and shift
#   per channel. PyTorch calls this `GroupNorm(1, C)`: one group holding all channels;
# * a **LeakyReLU** with slope 0.2 for negative inputs.
#
# Written out by hand:

# %%
def conv_norm_lrelu(in_ch, out_ch, kernel_size=3, stride=1, padding=1):
    return nn.Sequential(
        nn.ReflectionPad2d(padding),
        nn.Conv2d(in_ch, out_ch, kernel_size, stride=stride, bias=False),
        nn.GroupNorm(1, out_ch),
        nn.LeakyReLU(0.2),
    )

mine = conv_norm_lrelu(3, 32, kernel_size=7, padding=3)
library = models.ConvNormLReLU(3, 32, kernel_size=7, padding=3)
library.load_state_dict(mine.state_dict())  # same names: 1.weight, 2.weight, 2.bias
x = torch.rand(1, 3, 64, 64) * 2 - 1
print(mine)
print("same output as animegan_edu.models.ConvNormLReLU:",
      torch.allclose(mine(x), library(x)))

# %% [markdown]
# `GroupNorm(1, C)` is exactly a layer norm over `(C, H, W)` followed by a per-channel affine
# map. TensorFlow's `layer_norm` in the original code computes the same thing, which is why
# its `gamma`/`beta` become the GroupNorm `weight`/`bias` when we convert checkpoints.

# %% tags=["nbval-check-output"]
norm = nn.GroupNorm(1, 32)
with torch.no_grad():
    norm.weight.uniform_(0.5, 1.5)
    norm.bias.uniform_(-0.5, 0.5)
h = torch.randn(2, 32, 16, 16) * 3 + 1
by_hand = (F.layer_norm(h, h.shape[1:], eps=norm.eps) * norm.weight[:, None, None]
           + norm.bias[:, None, None])
print("GroupNorm(1, C) == layer norm over (C, H, W) + per-channel affine:",
      torch.allclose(norm(h), by_hand, atol=1e-5))

# %%
t = torch.linspace(-3, 3, 200)
with torch.no_grad():
    conv_out = mine[1](mine[0](x))
    unit_out = mine(x)
fig, ax = viz.figure(1, 2, figsize=(12, 4.2))
ax[0].plot(t, F.relu(t), label="ReLU")
ax[0].plot(t, F.leaky_relu(t, 0.2), label="LeakyReLU(0.2)")
ax[0].set_title("activation: negative values leak through")
ax[0].set_xlabel("input")
ax[0].set_ylabel("output")
ax[0].legend(loc="upper left")
ax[1].hist(conv_out.flatten().numpy(), bins=60, alpha=0.6,
           label="after the\nconvolution")
ax[1].hist(unit_out.flatten().numpy(), bins=60, alpha=0.6,
           label="after norm\n+ LeakyReLU")
ax[1].set_title("values in the unit (random weights)")
ax[1].set_xlabel("value")
ax[1].set_ylabel("count")
viz.legend_outside(ax[1])
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 2. Stride 2 and the lopsided padding
#
# The encoder halves the resolution twice with stride-2 3x3 convolutions. The original model
# was written in TensorFlow with `padding="SAME"`: for stride 2 and an even input, TF pads
# one pixel in total, and puts it on the **right and bottom** only. PyTorch's `padding=1`
# pads one pixel on *every* side. The output has the same size, but every window is shifted by
# one pixel: weights trained in TensorFlow would look at the wrong pixels. So the generator
# pads `(left, right, top, bottom) = (0, 1, 0, 1)` before these two convolutions.
#
# A one-row experiment makes it visible: a kernel `[0, 1, 0]` copies the centre of each window.

# %% tags=["nbval-check-output"]
row = torch.arange(8.0).view(1, 1, 1, 8)
centre = torch.tensor([[[[0.0, 1.0, 0.0]]]])
tf_same = F.conv2d(F.pad(row, (0, 1, 0, 0), mode="reflect"), centre, stride=(1, 2))
symmetric = F.conv2d(F.pad(row, (1, 1, 0, 0), mode="reflect"), centre, stride=(1, 2))
print("input                 ", row.flatten().int().tolist())
print("pad (0, 1): centres at", tf_same.flatten().int().tolist())
print("pad (1, 1): centres at", symmetric.flatten().int().tolist())
for n in (70, 71):
    print(f"H = {n}: output rows with (0, 1) -> {(n + 1 - 3) // 2 + 1},",
          f"with (1, 1) -> {(n + 2 - 3) // 2 + 1}")

# %%
fig, axes = viz.figure(2, 1, figsize=(10, 4.4), sharex=True)
cases = [(0, "TF 'SAME' / AnimeGANv2: pad (0, 1)"),
         (1, "PyTorch padding=1: pad (1, 1)")]
for ax, (left, title) in zip(axes, cases):
    for i in range(-left, 8 + 1):
        pad_cell = i < 0 or i >= 8
        ax.add_patch(plt.Rectangle((i, 0), 1, 1, fill=True, ec="k",
                                   color="0.85" if pad_cell else "white"))
        ax.text(i + 0.5, 0.5, "pad" if pad_cell else str(i), ha="center", va="center",
                fontsize=11)
    for j, c in enumerate(["tab:red", "tab:blue", "tab:green", "tab:purple"]):
        start = 2 * j - left
        y = 1.1 + 0.15 * (j % 2)
        ax.add_patch(plt.Rectangle((start + 0.05, y), 2.9, 0.12, color=c))
        ax.plot(start + 1.5, 1.05, "v", color=c)
    ax.set_xlim(-1.2, 9.2)
    ax.set_ylim(-0.1, 1.6)
    ax.set_title(title)
    ax.axis("off")
fig.suptitle("windows of the first four outputs (triangle = window centre)")
fig.tight_layout()
plt.show()


# %% [markdown]
# ## 3. Inverted residual blocks
#
# At a quarter of the resolution the generator works with 256 channels. A plain 3x3
# convolution from 256 to 256 channels would cost 590 k parameters; the MobileNetV2-style
# **inverted residual block** gets a wider view for far less:
#
# 1. a 1x1 convolution *expands* to 512 channels (conv-norm-LReLU);
# 2. a 3x3 **depthwise** convolution filters each channel on its own (`groups = channels`; this
#    is the only convolution with a bias);
# 3. a 1x1 convolution *projects* back to 256, then a norm (no activation);
# 4. the input is added back when the channel counts match.

# %%
class MyInvertedRes(nn.Module):
    def __init__(self, in_ch, out_ch, ratio=2):
        super().__init__()
        mid = in_ch * ratio
        self.use_residual = in_ch == out_ch
        self.layers = nn.Sequential(
            conv_norm_lrelu(in_ch, mid, kernel_size=1, padding=0),        # expand
            nn.Sequential(nn.ReflectionPad2d(1),                           # depthwise
                          nn.Conv2d(mid, mid, 3, groups=mid, bias=True),
                          nn.GroupNorm(1, mid), nn.LeakyReLU(0.2)),
            nn.Conv2d(mid, out_ch, 1, bias=False),                          # project
            nn.GroupNorm(1, out_ch),
        )

    def forward(self, x):
        out = self.layers(x)
        return x + out if self.use_residual else out

mine_block = MyInvertedRes(256, 256)
lib_block = models.InvertedResBlock(256, 256)
lib_block.load_state_dict(mine_block.state_dict())
h = torch.randn(1, 256, 16, 16)
print("same as models.InvertedResBlock:",
      torch.allclose(mine_block(h), lib_block(h), atol=1e-5))

# %% tags=["nbval-check-output"]
plain = nn.Conv2d(256, 256, 3, bias=False)
parts = {name: models.count_parameters(m) for name, m in
         [("1x1 expand", lib_block.layers[0]), ("3x3 depthwise", lib_block.layers[1]),
          ("1x1 project", lib_block.layers[2]), ("norm", lib_block.layers[3])]}
print(f"plain 3x3 conv 256->256: {models.count_parameters(plain):,} parameters")
print(f"inverted residual block: {models.count_parameters(lib_block):,} parameters",
      parts)

# %%
fig, ax = viz.figure(figsize=(9, 3.4))
ax.barh(["plain 3x3 conv"], [models.count_parameters(plain)], color="0.6")
left = 0
colours = ["tab:blue", "tab:orange", "tab:green", "tab:red"]
for (name, n), c in zip(parts.items(), colours):
    ax.barh(["inverted residual"], [n], left=left, color=c, label=name)
    left += n
ax.set_xlabel("parameters")
viz.legend_outside(ax, title="inverted residual")
ax.set_title("the depthwise 3x3 is almost free;\nthe 1x1 convs carry the weights")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 4. Upsampling: resize, then convolve
#
# Many generators (the ResNet one in the article included) upsample with **transposed
# convolutions**. With stride 2 and a 3x3 kernel, some output pixels receive contributions
# from one input pixel, others from two or four: even with perfectly uniform weights and a
# uniform input, the output is a checkerboard. AnimeGANv2 instead **resizes** (bilinear) to the
# size of the matching encoder feature map and then applies ordinary convolutions, which cannot
# produce that pattern.

# %%
ones = torch.ones(1, 1, 8, 8)
tconv = nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=1, bias=False)
conv = nn.Conv2d(1, 1, 3, bias=False)
with torch.no_grad():
    tconv.weight.fill_(1.0)
    conv.weight.fill_(1.0 / 9)
    checker = tconv(ones)[0, 0]
    upsampled = models.resize(ones, (16, 16))
    smooth = conv(F.pad(upsampled, (1, 1, 1, 1), mode="reflect"))[0, 0]
viz.image_row([checker, smooth], ["transposed conv\n(uniform weights)",
                                  "resize + conv\n(uniform weights)"],
              height_px=300, cmap="magma", vmin=0, vmax=max(checker.max().item(), 1),
              colorbar_label="output value")
plt.show()
print("distinct values, transposed conv:", sorted(set(checker.flatten().tolist())))
print("distinct values, resize + conv:  ",
      sorted(set(round(v, 4) for v in smooth.flatten().tolist())))

# %% [markdown]
# ## 5. The whole generator: shapes after each block
#
# The library's `models.Generator` puts the pieces together (and names them exactly as the
# public PyTorch weight files do, so those files load with `strict=True`):
#
# | block | what | resolution |
# |---|---|---|
# | `block_a` | 7x7 unit (32 ch), stride-2 unit (64), unit (64) | full, then 1/2 |
# | `block_b` | stride-2 unit (128), unit (128) | 1/4 |
# | `block_c` | unit, 4 inverted residual blocks (256 ch), unit (128) | 1/4 |
# | `block_d` | resize to the size of `block_a`'s output, two units (128) | 1/2 |
# | `block_e` | resize to the input size, units (64, 64), 7x7 unit (32) | full |
# | `out_layer` | 1x1 conv to 3 channels, `tanh` | full |
#
# Forward hooks print the shape leaving each block, for a square and for an odd-sized input.

# %% tags=["nbval-check-output"]
G = models.Generator().eval()
names = ["block_a", "block_b", "block_c", "block_d", "block_e", "out_layer"]
shapes = {}
def record(m, i, o, n):
    shapes[n] = (tuple(i[0].shape), tuple(o.shape))

hooks = [getattr(G, n).register_forward_hook(lambda m, i, o, n=n: record(m, i, o, n))
         for n in names]
for size in [(256, 256), (70, 98)]:
    with torch.no_grad():
        G(torch.zeros(1, 3, *size))
    print(f"input (1, 3, {size[0]}, {size[1]})")
    for n in names:
        print(f"  {n:<9} in {str(shapes[n][0]):<20} out {shapes[n][1]}")
for hk in hooks:
    hk.remove()

# %%
fig, ax = viz.figure(figsize=(11, 4.4))
steps = [("input", 3, 1), ("block_a", 64, 1 / 2), ("block_b", 128, 1 / 4),
         ("block_c", 128, 1 / 4), ("block_d", 128, 1 / 2), ("block_e", 32, 1),
         ("output", 3, 1)]
for i, (name, ch, scale) in enumerate(steps):
    ax.add_patch(plt.Rectangle((i - 0.03 * ch / 8, -scale / 2), 0.06 * ch / 8, scale,
                               color="tab:blue", alpha=0.6))
    ax.text(i, -0.62, f"{name}\n{ch} ch\n{scale:g}x", ha="center", va="top",
            fontsize=11)
ax.annotate("", xy=(4, 0.3), xytext=(1, 0.3),
            arrowprops=dict(arrowstyle="<-", color="0.5",
                            connectionstyle="arc3,rad=-0.3"))
ax.text(2.5, 0.62, "block_d resizes to block_a's size; block_e to the input's",
        ha="center", fontsize=11, color="0.3")
ax.set_xlim(-0.7, 6.7)
ax.set_ylim(-1.25, 0.75)
ax.axis("off")
ax.set_title("height = resolution, width = channels")
plt.show()

# %% [markdown]
# ## 6. Parameters
#
# The public weight files hold 77 tensors and 2,143,552 parameters (8.6 MB as float32).
# Most of them sit in the middle, where the channels are widest.

# %% tags=["nbval-check-output"]
per_block = {n: models.count_parameters(getattr(G, n)) for n in names}
print(f"total parameters: {models.count_parameters(G):,}",
      f"in {len(G.state_dict())} tensors")
for n, p in per_block.items():
    print(f"  {n:<9} {p:>9,}")

# %%
fig, ax = viz.figure(figsize=(8, 3.6))
ax.bar(per_block.keys(), [p / 1e3 for p in per_block.values()], color="tab:blue")
ax.set_xlabel("block")
ax.set_ylabel("thousand parameters")
ax.set_title("parameters per block")
fig.tight_layout()
plt.show()


# %% [markdown]
# ## 7. Cost: multiply-accumulates and FLOPs
#
# Parameters say how big the file is; **MACs** (multiply-accumulates) say how much work one
# picture costs. A convolution does `k x k x C_in / groups` MACs for every output value; a FLOP
# count is about twice the MAC count. The per-block counts below come from forward hooks on
# every convolution (norms, activations and resizes add a few percent and are left out);
# `models.count_macs` does the same for the whole network.

# %%
def macs_per_block(model, size):
    counts = dict.fromkeys(names, 0)
    def hook(mod, inp, out, block):
        k_h, k_w = mod.kernel_size
        counts[block] += out.numel() * k_h * k_w * (mod.in_channels // mod.groups)
    handles = [m.register_forward_hook(
                   lambda mod, i, o, b=qual.split(".")[0]: hook(mod, i, o, b))
               for qual, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        model(torch.zeros(1, 3, size, size))
    for hd in handles:
        hd.remove()
    return counts

macs256 = macs_per_block(G, 256)

# %% tags=["nbval-check-output"]
total256 = models.count_macs(G, 256)
total512 = models.count_macs(G, 512)
assert sum(macs256.values()) == total256
print(f"256 x 256: {total256 / 1e9:.2f} GMAC = {2 * total256 / 1e9:.1f} GFLOP")
print(f"512 x 512: {total512 / 1e9:.2f} GMAC = {2 * total512 / 1e9:.1f} GFLOP",
      "(4x: cost grows with the pixel count)")
print(f"block_e share at 512 px: {4 * macs256['block_e'] / 1e9:.1f} GMAC")

# %%
fig, ax = viz.figure(figsize=(8, 3.6))
ax.bar(macs256.keys(), [4 * v / 1e9 for v in macs256.values()], color="tab:orange")
ax.set_xlabel("block")
ax.set_ylabel("GMAC at 512 x 512")
ax.set_title("full-resolution 3x3 and 7x7 convs (block_e)\ndominate the cost")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 8. Receptive field
#
# Which input pixels can influence one output pixel? `models.receptive_field` back-propagates
# from the centre output pixel to the input of a twin network with uniform positive weights
# (so nothing cancels) and no normalisation (whose statistics would connect every pixel with
# every other). The non-zero region is the **receptive field**; its shading counts the paths.

# %% tags=["nbval-check-output"]
rf_g = models.receptive_field(G, size=256)
rf_r = models.receptive_field(models.ResnetGenerator(), size=256)
def extent(rf):
    cols, rows = (rf > 0).any(0).nonzero(), (rf > 0).any(1).nonzero()
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)
print("AnimeGANv2 generator receptive field (rows, cols):", extent(rf_g))
print("article's ResNet generator receptive field:     ", extent(rf_r))

# %%
viz.image_row([rf.clamp(min=1e-6).log10() for rf in (rf_g, rf_r)],
              [f"{title}:\n{extent(rf)[0]} px wide" for rf, title in
               ((rf_g, "AnimeGANv2 generator"), (rf_r, "article's ResNet generator"))],
              height_px=360, cmap="viridis", vmin=-6, vmax=0,
              colorbar_label="log10 |d out[centre] / d input|",
              suptitle="receptive field on a 256 x 256 input")
plt.show()

# %% [markdown]
# ## 9. Compared with the article's ResNet generator
#
# The article prints a "simplified generator": the CycleGAN-style ResNet (7x7 stem, two
# stride-2 convs to 256 channels, nine residual blocks, two transposed convs, instance norm).
# It is a fine generator, but it is not AnimeGANv2's: it is five times larger and twice as
# expensive, and its transposed convolutions invite the checkerboards of section 4.

# %% tags=["nbval-check-output"]
R = models.ResnetGenerator().eval()
table = {
    "parameters (M)": (models.count_parameters(G) / 1e6,
                       models.count_parameters(R) / 1e6),
    "GMAC at 256 px": (total256 / 1e9, models.count_macs(R, 256) / 1e9),
    "receptive field (px)": (extent(rf_g)[0], extent(rf_r)[0]),
}
print(f"{'':<22}{'AnimeGANv2':>12}{'ResNet':>10}")
for k, (a, b) in table.items():
    print(f"{k:<22}{a:>12.2f}{b:>10.2f}")

# %%
fig, axes = viz.figure(1, 3, figsize=(12, 3.8))
units = ("million parameters", "GMAC per image", "pixels")
for ax, (k, (a, b)), unit in zip(axes, table.items(), units):
    ax.bar(["AnimeGANv2", "ResNet"], [a, b], color=["tab:blue", "0.6"])
    ax.set_title(k)
    ax.set_ylabel(unit)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 10. Feature maps as pictures
#
# Now a real photo. `weights.get_generator()` loads the best weights available on this
# machine without the network (a cached public model, else the toolkit's bundled demo
# weights) and says which.

# %%
G_photo, label = weights.get_generator()
print("weights used:", label)
photo = resize_longest(Image.fromarray(sample_photo_array("astronaut")), 256)
x_photo = to_generator_range(pil_to_tensor01(photo))[None]
feats = {}
hooks = [getattr(G_photo, n).register_forward_hook(
             lambda m, i, o, n=n: feats.__setitem__(n, o[0]))
         for n in ("block_a", "block_c")]
with torch.no_grad():
    y_photo = G_photo(x_photo)
for hk in hooks:
    hk.remove()
print({n: tuple(f.shape) for n, f in feats.items()})

# %%
maps, titles = [], []
for n in ("block_a", "block_c"):
    f = feats[n]
    for c in f.abs().mean((1, 2)).argsort(descending=True)[:4].tolist():
        m = f[c]
        maps.append((m - m.min()) / (m.max() - m.min() + 1e-12))  # each map to [0, 1]
        titles.append(f"{n}, channel {c}")
viz.image_row(maps, titles, height_px=256, ncols=4,
              colorbar_label="activation, scaled per\nchannel (0 = min, 1 = max)",
              suptitle="four most active channels after block_a (1/2 res.) "
                       "and block_c (1/4 res.)")
plt.show()

# %%
viz.image_row([photo, from_generator_range(y_photo[0])],
              ["input", f"generator output\n({label.split(':')[0]})"], height_px=360)
plt.show()

# %% [markdown]
# ## 11. Parity with the public PyTorch port
#
# A faithful generator must reproduce the public port *numerically*. The project's reference
# folder `shared/reference/parity/` (a `shared` folder beside the repository checkout in the
# course setup and in CI, or wherever `ANIMEGAN_EDU_SHARED` points; it is **not** part of a
# plain clone) holds random weights, an odd-sized input batch and
# the output the public port computes from them. With it, the check below loads those weights
# into `models.Generator` and compares: the largest difference must stay below 1e-5. Without
# it, the cell says so and runs a self-consistency check instead: weights saved to a
# `.safetensors` file and loaded back through `weights.load_generator` give the same output
# bit for bit. (The tests run the real check: `tests/test_models.py`.)

# %%
# beside the checkout that holds animegan_edu (not relative to this notebook's folder)
CHECKOUT = Path(models.__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ANIMEGAN_EDU_SHARED", CHECKOUT.parent / "shared"))
PARITY = SHARED / "reference" / "parity"
if (PARITY / "generator_random_seed0.pt").exists():
    ref_state = torch.load(PARITY / "generator_random_seed0.pt", weights_only=True)
    x_ref = torch.load(PARITY / "input_2x3x70x98.pt", weights_only=True)
    y_ref = torch.load(PARITY / "output_2x3x70x98.pt", weights_only=True)
    G_ref = models.Generator().eval()
    G_ref.load_state_dict(ref_state, strict=True)
    with torch.no_grad():
        y_ours = G_ref(x_ref)
    err = (y_ours - y_ref).abs().max().item()
    print(f"parity with the public port on {tuple(x_ref.shape)}: "
          f"max |difference| = {err:.1e} "
          f"({'OK' if err <= 1e-5 else 'FAILED'}, tolerance 1e-5)")
    assert err <= 1e-5
else:
    print(f"{PARITY} is not here (it is not part of a clone); "
          "the parity check would compare our output with the public port's "
          "stored output (max |difference| < 1e-5). Self-consistency check instead:")
    torch.manual_seed(0)
    G_ref = models.Generator().eval()
    x_ref = torch.rand(2, 3, 70, 98) * 2 - 1
    with torch.no_grad():
        y_ref = G_ref(x_ref)
from safetensors.torch import save_file

with tempfile.TemporaryDirectory() as tmp:
    save_file(G_ref.state_dict(), f"{tmp}/g.safetensors")
    G_back = weights.load_generator(f"{tmp}/g.safetensors")
with torch.no_grad():
    y_back = G_back(x_ref)
print("save -> load_generator round trip gives the same output bit for bit:",
      torch.equal(y_back, G_ref(x_ref)))

# %%
with torch.no_grad():
    y_now = G_ref(x_ref)
viz.image_row([from_generator_range(y_ref[0]), from_generator_range(y_now[0]),
               (y_now - y_ref)[0].abs().amax(0) * 1e6],
              ["stored / reference output", "models.Generator", "|difference| x 1e6"],
              height_px=300, cmap="magma", vmin=0, vmax=None,
              colorbar_label="|difference| x 1e6\n(max over RGB)")
plt.show()

# %% [markdown]
# ## 12. TensorFlow versus PyTorch: layouts, names and the resize
#
# The Shinkai style exists only as an original **TensorFlow** checkpoint. `animegan_edu.weights.tf.checkpoint`
# reads those files without TensorFlow and converts them. Three things differ between the two
# worlds:
#
# * **kernel layout**: TF stores convolution kernels as `(H, W, in, out)` ("HWIO"), PyTorch
#   as `(out, in, H, W)` ("OIHW"); TF's depthwise kernels are `(H, W, C, 1)`, PyTorch's
#   `(C, 1, H, W)`;
# * **names**: TF numbers layers per scope (`Conv`, `Conv_1`, `LayerNorm_2`, ...), PyTorch by
#   position (`block_a.2.1.weight`); `tf_checkpoint.tf_variable_map()` holds the rule;
# * **resizing**: TF1's bilinear `resize_images` maps output pixel `i` to input coordinate
#   `i * in / out` (no corner alignment, no half-pixel centres); no PyTorch mode does that.

# %% tags=["nbval-check-output"]
vmap = tf_checkpoint.tf_variable_map()
print(len(vmap), "TF variables; a few of them:")
for name in ["generator/G_MODEL/A/Conv/weights", "generator/G_MODEL/A/LayerNorm/gamma",
             "generator/G_MODEL/C/r1/r1/w", "generator/G_MODEL/C/r1/Conv_1/weights"]:
    print(f"  {name:<42} -> {vmap[name]}")


# %% [markdown]
# A round trip teaches the layouts: write our generator's weights as a TF checkpoint (HWIO
# kernels under TF names) with the toolkit's own bundle writer, read it back, convert it.
# When the TensorFlow-written fixture of the reference folder is present, it is converted too
# and compared with the parity weights: they must be equal exactly.

# %%
def to_tf_layout(name, t):
    a = t.numpy()
    if a.ndim == 4:
        # depthwise (C, 1, H, W) -> (H, W, C, 1); ordinary OIHW -> HWIO
        depthwise = name.endswith("/w")
        return a.transpose(2, 3, 0, 1) if depthwise else a.transpose(2, 3, 1, 0)
    return a

state = G_ref.state_dict()
tf_tensors = {tf_name: np.ascontiguousarray(to_tf_layout(tf_name, state[key]))
              for tf_name, key in vmap.items()}
with tempfile.TemporaryDirectory() as tmp:
    tf_checkpoint.write_bundle(f"{tmp}/Mine-0.ckpt", tf_tensors)
    ckpt = tf_bundle.TFCheckpoint(tmp)
    tf_shape = ckpt.info("generator/G_MODEL/A/Conv/weights").shape
    print(ckpt, "| A/Conv/weights TF shape:", tf_shape,
          "-> PyTorch", tuple(state["block_a.0.1.weight"].shape))
    back = tf_checkpoint.convert_generator(ckpt)
print("round trip equal:", all(torch.equal(back[k], state[k]) for k in state))
TF_FIXTURE = SHARED / "testdata" / "tf_generator_random"
if TF_FIXTURE.is_dir() and (PARITY / "generator_random_seed0.pt").exists():
    converted = tf_checkpoint.convert_checkpoint(TF_FIXTURE)
    print("TensorFlow-written checkpoint converts exactly to the parity weights:",
          all(torch.equal(converted[k], ref_state[k]) for k in ref_state))
else:
    print("(the TensorFlow-written fixture in the shared folder is not here;",
          "the tests check it)")

# %% [markdown]
# **The resize at the pixel level.** Upsampling 4 pixels to 8, each convention reads the input
# at different places. `align_corners=True` (the public port) stretches so both ends meet;
# `half_pixel` (PyTorch's other mode, and TF2) treats pixels as little squares; TF1 simply
# scales the index, so the picture is shifted by a quarter of an input pixel and the last output
# pixel repeats the edge.

# %% tags=["nbval-check-output"]
out_idx = np.arange(8)
coords = {
    "align_corners": out_idx * (4 - 1) / (8 - 1),
    "half_pixel": np.clip((out_idx + 0.5) * 4 / 8 - 0.5, 0, 3),
    "tf1": out_idx * 4 / 8,
}
for mode, c in coords.items():
    print(f"{mode:<14}", np.round(c, 3).tolist())

# %%
torch.manual_seed(0)
small = torch.rand(1, 1, 6, 6)
ups = {m: models.resize(small, (24, 24), m)[0, 0]
       for m in ("align_corners", "half_pixel", "tf1")}
fig, ax = viz.figure(figsize=(6.5, 4))
for c, mode in zip(["tab:blue", "tab:orange", "tab:green"], coords):
    ax.plot(out_idx, coords[mode], "o-", color=c, label=mode)
ax.set_xlabel("output pixel (8 px)")
ax.set_ylabel("input coordinate (4 px)")
ax.set_title("where each output pixel samples")
viz.legend_outside(ax, title="resize mode")
plt.show()
viz.image_row([ups[mode] for mode in ups], [f"6x6 -> 24x24,\n{mode}" for mode in ups],
              height_px=256, cmap="viridis", vmin=0, vmax=1, colorbar_label="value")
plt.show()
fig, ax = viz.figure(figsize=(4.6, 3.8))
viz.heatmap(ax, (ups["tf1"] - ups["align_corners"]).abs(), "|difference|", cmap="magma",
            title="|tf1 - align_corners|")
plt.show()

# %% [markdown]
# Inside the generator the two resizes happen at 1/4 and 1/2 resolution, so the shift is small
# but visible as a slightly different picture: the same weights, decoded with the TF1 resize
# (as the original TensorFlow model does) and with the public port's `align_corners`.

# %%
G_tf1 = models.Generator(upsample="tf1").eval()
G_tf1.load_state_dict(G_photo.state_dict())
with torch.no_grad():
    y_tf1 = G_tf1(x_photo)
diff = (from_generator_range(y_tf1[0]) - from_generator_range(y_photo[0])).abs()
print(f"mean |tf1 - align_corners| on the photo: {diff.mean().item():.4f}",
      f"(on a 0..1 scale; {label.split(':')[0]})")
viz.image_row([from_generator_range(y_photo[0]), from_generator_range(y_tf1[0]),
               diff.amax(0)],
              ["align_corners\n(public port)", "tf1\n(original TensorFlow)",
               "|difference|"],
              height_px=300, cmap="magma", vmin=0, vmax=None,
              colorbar_label="|tf1 - align_corners|\n(max over RGB, 0-1)")
plt.show()

# %% [markdown]
# ## 13. Getting real weights
#
# The registry `registry.AnimeGANv2Weights` lists every pretrained generator the toolkit knows:
# four public PyTorch files, checked against their git-blob SHA-1, three original TensorFlow
# checkpoints (Shinkai, Hayao, Paprika), converted on first download, and the three generators
# that ship with the toolkit: `demo`, `wesnoth` and `hedgewars` (notebook 09). Downloads need the internet
# once; after that everything works offline from the cache (`$ANIMEGAN_EDU_HOME`, default
# `~/.cache/animegan-edu`). From a terminal:
#
# ```
# animegan-edu weights list
# animegan-edu weights download face_paint_512_v2
# animegan-edu weights download shinkai        # TF checkpoint -> converted, cached as safetensors
# animegan-edu stylize photo.jpg -o out/ --weights shinkai
# ```

# %%
for w in registry.AnimeGANv2Weights:
    cached = "cached" if registry.is_cached(w) else "not cached"
    print(f"{w.key:<18} {cached:<11} {w.meta['doc']}")
print()
print(registry.describe("shinkai"))

# %% [markdown]
# ## Summary
#
# * The generator is built from one unit (reflect-pad, bias-free conv, layer norm as
#   `GroupNorm(1, C)`, LeakyReLU 0.2), two stride-2 units padded `(0, 1, 0, 1)` like TF's
#   `SAME`, four inverted residual blocks at 1/4 resolution, and a decoder that **resizes then
#   convolves** to avoid checkerboards; a 1x1 conv and `tanh` give RGB in [-1, 1].
# * 2,143,552 parameters; 26.3 GMAC at 256 px and 105.1 GMAC at 512 px, about half of it in
#   the full-resolution `block_e`; a receptive field of 97 pixels.
# * The article's ResNet generator is five times larger, twice as costly, and uses transposed
#   convolutions.
# * The library's generator reproduces the public PyTorch port to within 1e-5, and the original
#   TensorFlow checkpoints convert exactly (HWIO -> OIHW, layer norm -> GroupNorm); only the
#   resize convention separates the two, and `Generator(upsample="tf1")` restores the original.

# %% [markdown]
# ## References
#
# * 张小明 (Zhang Xiaoming). "AnimeGANv2技术揭秘:新海诚风格光影效果的实现" (*AnimeGANv2 revealed:
#   how the Makoto Shinkai light-and-shadow look is made*), online technical article: the text this
#   toolkit grew from.
# * Chen, J., Liu, G., Chen, X. (2019). "AnimeGAN: A Novel Lightweight GAN for Photo Animation". ISICA 2019.
# * Chen, J. (2020). AnimeGANv2, the TachibanaYoshino/AnimeGANv2 project (the improved generator,
#   losses and released weights).
# * Sandler, M. et al. (2018). "MobileNetV2: Inverted Residuals and Linear Bottlenecks". CVPR 2018.
# * Ba, J. L., Kiros, J. R., Hinton, G. E. (2016). "Layer Normalization". arXiv:1607.06450.
# * Odena, A., Dumoulin, V., Olah, C. (2016). "Deconvolution and Checkerboard Artifacts". Distill.
# * Zhu, J.-Y. et al. (2017). "Unpaired Image-to-Image Translation using Cycle-Consistent
#   Adversarial Networks". ICCV 2017 (the ResNet generator the article prints).

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
# **1 · Output size of a padded stride-2 unit.** A unit reflect-pads `top` rows above and `bottom`
# rows below, then applies a 3x3 convolution with stride 2. Write `out_size(h, top, bottom)`, the
# output height for an input of height `h`. The generator's units use `top=0, bottom=1`; PyTorch's
# usual `padding=1` is `top=1, bottom=1`. Once it passes: for an odd `h`, which of the two keeps the
# last row?

# %%
def out_size(h, top, bottom):
    return None  # your code here

exercises.check_stride2_size(out_size)

# %% [markdown]
# **2 · Counting a convolution's parameters.** Write `conv_params(in_ch, out_ch, k, groups, bias)`,
# the number of parameters of `nn.Conv2d(in_ch, out_ch, k, groups=groups, bias=bias)`, without
# building it (the checker refuses `nn.Conv2d` inside it). Then use it to check by hand the share
# of the depthwise convolutions in one inverted residual block (the per-layer breakdown in section
# 3).

# %%
def conv_params(in_ch, out_ch, k, groups, bias):
    return None  # your code here

exercises.check_conv_parameters(conv_params)

# %% [markdown]
# **3 · Project (20-30 min): the inverted residual block.** Write the generator's building block
# as an `nn.Module` class `MyBlock(in_ch, out_ch, expansion_ratio=2)`, input and output
# `(N, C, H, W)`, in this order: a 1x1 convolution from `in_ch` to `mid = in_ch * expansion_ratio`
# channels, its norm and LeakyReLU; a 3x3 **depthwise** convolution on `mid` channels (reflection
# padding of 1, with a bias), its norm and LeakyReLU; a 1x1 convolution from `mid` to `out_ch`
# and its norm; then add the input when `in_ch == out_ch`. Every norm is `nn.GroupNorm(1, C)`, every
# LeakyReLU has slope 0.2, and only the depthwise convolution has a bias. You may use `torch.nn`
# layers (and `ConvNormLReLU`), not the library's `InvertedResBlock`. Create the layers in
# `__init__` **in the order they run**: the checker copies the library block's weights onto yours in
# that order. It checks, piece by piece: (a) the parameter count, (b) the output shape, (c) the
# residual (with every parameter zero, the block must return its input), (d) the outputs, equal to
# the library block's with the same weights.

# %%
import torch
from torch import nn

from animegan_edu.teaching import exercises_projects as projects


class MyBlock(nn.Module):
    def __init__(self, in_ch, out_ch, expansion_ratio=2):
        super().__init__()
        pass  # your layers here, in the order they run

    def forward(self, x):
        return None  # your code here


projects.check_inverted_residual(MyBlock)
