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
# # 08 · The studio: everything in one interface
#
# The article this toolkit grew from, 张小明, "AnimeGANv2技术揭秘:新海诚风格光影效果的实现" (in
# English: *AnimeGANv2 revealed: how the Makoto Shinkai light-and-shadow look is made*), ends with a
# friendly web interface: drag-and-drop upload (the Studio here uploads through the file chooser
# instead), a progress bar, a
# before/after slider, a gallery of examples. `animegan_edu.studio.widgets.Studio` rebuilds it inside
# JupyterLab with ipywidgets, on top of the pieces of the previous notebooks:
#
# * the generator (`01`), with the default weights of `animegan_edu.weights.hub`;
# * face alignment (`05`, `animegan_edu.inference.face_paste.face2paint`);
# * style strength, colour grading and glow (`06`, `animegan_edu.inference.grading`).
#
# Run the next cell in JupyterLab and use the controls on the left. Where the widgets cannot draw
# (the notebook executed headless, read without a kernel, untrusted, or saved and reopened), the
# same output shows a static before/after figure of the studio's first result instead; it is
# never drawn under the live studio. Saved notebooks keep only that picture (widget views are
# removed on save, see `animegan_edu.studio.live`), so a notebook reopens without errors.

# %%
import matplotlib.pyplot as plt
import torch
from matplotlib_inline.backend_inline import set_matplotlib_formats

from animegan_edu.studio.widgets import (
    Studio,
    StudioSettings,
    render,
    sample_images,
)
from animegan_edu.viz import before_after_figure, image_row
from animegan_edu.weights.hub import get_generator

torch.manual_seed(0)
torch.set_num_threads(2)
set_matplotlib_formats("jpeg")  # photos: JPEG keeps the saved notebook small

studio = Studio(settings=StudioSettings(size=320, grade="shinkai"))
studio

# %% [markdown]
# ## The controls
#
# | control | what it does | runs the generator again? |
# |---|---|---|
# | **Upload photo** | click the button and choose an image (dropping a file on it does not work in ipywidgets 8); EXIF rotation is honoured; a file that is not an image is reported in one line | yes |
# | **gallery** | public-domain sample photos shipped with scikit-image | yes |
# | **Weights** | `default` (a cached public weight, else the bundled demo), any other weight available offline, or an untrained generator | yes |
# | **Style**, **Mix with**, **Mix** | with the weights `styles` (one generator, several styles; notebook 11): its style, or "reference art"; a second style and its share, 0 to 1 (the style codes are blended, not the pictures) | yes |
# | **Reference art** | with the weights `styles`: upload one or more pictures; the model's style encoder reads a style from them | yes |
# | **Size** | longest side in pixels; time grows with the pixel count | yes |
# | **Align faces** | face2paint: each face is aligned to an upright square crop sized to the face (256 to 512 px; notebook 05 §8), stylised there and blended back | yes |
# | **Style strength** | blend between photo (0) and stylised picture (1) | no |
# | **Grade / Grade amount** | a preset of `animegan_edu.inference.grading` and how much of it | no |
# | **Glow** | highlight glow amount | no |
# | **before \| after** | moves the divider of the comparison | no |
#
# The generator result is cached: strength, grade, glow and the divider re-use it and update at once.
# The progress bar follows the stages (whole picture, then each face) and, inside each generator
# pass, the generator's layers, so it moves even during a long 1024-px pass; the status line says how
# long it took, what face2paint did, and which weights were used. The **Download** link holds the
# PNG itself (a `data:` URI), so it works without a server.
#
# ## The same without widgets
#
# The work behind the interface is one function, `render(image, model, settings)`, which is also
# what the tests drive:

# %% tags=["nbval-check-output"]
model, note = get_generator()
print(
    StudioSettings(
        size=256, face=True, strength=0.8, grade="shinkai", grade_amount=0.5, glow=0.4
    )
)

# %%
photo = sample_images(("chelsea",))["chelsea"]
print(note)
looks = {
    "photo\n(strength 0, neutral)": dict(strength=0.0, grade="neutral"),
    "stylised, neutral": dict(grade="neutral"),
    "stylised, shinkai": dict(grade="shinkai"),
    "strength 0.5,\nshinkai + glow 1": dict(strength=0.5, glow=1.0),
}
pictures = [render(photo, model, StudioSettings(size=256, **kw)).result[0]
            for kw in looks.values()]
fig = image_row(pictures, list(looks), height_px=256)
plt.show()

# %% [markdown]
# The static figure the studio draws comes from `before_after_figure`, usable on its own:

# %%
r = render(
    sample_images(("astronaut",))["astronaut"],
    model,
    StudioSettings(size=384, face=True, grade="shinkai"),
)
print(r.message)
fig = before_after_figure(
    r.photo, r.result, "astronaut with face2paint and the Shinkai grade", split=0.4
)
plt.show()

# %% [markdown]
# ## Summary
#
# * `Studio()` gives upload, gallery, weights, size, strength, grade, glow and face controls (and,
#   for the style-conditioned weights `styles`, a style menu, a mixing slider and reference art), a
#   progress bar, a before/after view with a draggable divider and a download link, all inside
#   JupyterLab with no server or extension.
# * The slow step (the generator) is cached; the look controls only re-run the cheap grading.
# * Where widgets cannot draw (headless, untrusted, reopened after saving) its output shows a
#   static before/after figure instead; `render()` is the same pipeline without widgets.

# %% [markdown]
# ## References
#
# * 张小明 (Zhang Xiaoming). "AnimeGANv2技术揭秘:新海诚风格光影效果的实现" (*AnimeGANv2 revealed:
#   how the Makoto Shinkai light-and-shadow look is made*), online technical article: the text this
#   toolkit grew from.
# * Chen, J., Liu, G., Chen, X. (2019). "AnimeGAN: A Novel Lightweight GAN for Photo Animation".
#   ISICA 2019 (proceedings: Springer, Communications in Computer and Information Science, vol. 1205,
#   2020); and the AnimeGANv2 repository (TachibanaYoshino/AnimeGANv2: the improved generator, losses
#   and released weights).

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
# **1 · The working size.** Before the generator, the studio resizes a picture so that its longest
# side is the size slider's value and both sides are multiples of 4. Write `new_size(w, h, size)`
# returning the new `(w, h)`.


# %%
def new_size(w, h, size):
    return None  # your code here


exercises.check_resize_size(new_size)

# %% [markdown]
# **2 · The fast step.** When a look slider moves, the studio re-runs only the cheap part: blend the
# photo and the cached generator output by strength, then apply the grade. Write `my_finish(photo,
# raw, strength)` for the `"shinkai"` grade, using `animegan_edu.inference.grading` (`blend_strength`,
# `color_grade`). Does the order matter?

# %%


def my_finish(photo, raw, strength):
    return None  # your code here


exercises.check_finish(my_finish)
