"""Make the small course set that ships in the package: ``animegan_edu/assets/course_styles/``.

Notebook 09 fine-tunes live, offline, on a fresh install: it needs photos and pictures of
each style without ``prepare-demo``/``prepare-styles`` (which fetch Debian packages). This
script takes an even spread of both sets' files (``data/demo``, ``data/styles``, made by those
commands) at 256 px, as JPEG (quality 90, deterministic), in the trainer's layout::

    train_photo/*.jpg, <Set>/style/*.jpg, <Set>/smooth/*.jpg, MANIFEST.json

MANIFEST.json carries each file's source record (package, version, path, licence) from the
full sets' manifests and its SHA-256. Usage: ``python tools/make_course_styles.py``.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sys
from pathlib import Path

from PIL import Image

from animegan_edu.data.styles import style_set_names
from animegan_edu.imageio import resize_longest

OUT = Path("animegan_edu/assets/course_styles")
PHOTOS, PER_SET, SIDE = 32, 24, 256


def spread(items: list, n: int) -> list:
    return items if len(items) <= n else [items[(i * len(items)) // n] for i in range(n)]


def jpeg(src: Path) -> bytes:
    im = Image.open(src).convert("RGB")
    im = resize_longest(im, SIDE, multiple=1) if max(im.size) > SIDE else im
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=90, optimize=False, progressive=False)
    return buf.getvalue()


def main() -> None:
    demo = json.loads(Path("data/demo/MANIFEST.json").read_text())
    styles = json.loads(Path("data/styles/MANIFEST.json").read_text())
    if OUT.exists():
        if not (OUT / "MANIFEST.json").is_file():
            sys.exit(f"{OUT}: exists without a MANIFEST.json; move it away")
        shutil.rmtree(OUT)
    files: dict[str, dict] = {}
    keep = ("package", "version", "path", "licence")
    photos = sorted(k for k in demo["files"] if k.startswith("train_photo/"))
    for rel in spread(photos, PHOTOS):
        files[f"train_photo/{Path(rel).stem}.jpg"] = {
            "from": f"data/demo/{rel}", **{k: demo["files"][rel][k] for k in keep}
        }
    for name in style_set_names():
        pics = sorted(k for k in styles["files"] if k.startswith(f"{name}/style/"))
        for rel in spread(pics, PER_SET):
            for sub in ("style", "smooth"):
                src = rel.replace("/style/", f"/{sub}/")
                files[f"{name}/{sub}/{Path(rel).stem}.jpg"] = {
                    "from": f"data/styles/{src}", "set": name, **{k: styles["files"][src][k] for k in keep}
                }
    for rel, rec in files.items():
        data = jpeg(Path(rec.pop("from")))
        (OUT / rel).parent.mkdir(parents=True, exist_ok=True)
        (OUT / rel).write_bytes(data)
        rec["sha256"] = hashlib.sha256(data).hexdigest()
    manifest = {
        "made_by": "tools/make_course_styles.py",
        "what": f"the course set of notebook 09: {PHOTOS} demo photos and {PER_SET} pictures per style set, "
        f"longest side {SIDE} px, JPEG",
        "files": files,
    }
    (OUT / "MANIFEST.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    size = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {len(files)} files, {size / 1e6:.1f} MB, to {OUT}")


if __name__ == "__main__":
    main()
