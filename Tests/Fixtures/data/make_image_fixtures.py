#!/usr/bin/env python3
"""Makes the image-folder and CIFAR-10 fixtures (issue 19) under Tests/Fixtures/data:

  images/rgb/{train,val,test}/<class>/   crops of ten colour photographs shipped with Python
                                         packages (10 classes, as the CIFAR-10 model has): seven
                                         of skimage.data (astronaut, chelsea, coffee, rocket,
                                         immunohistochemistry, hubble_deep_field, retina), two of
                                         scikit-learn (china.jpg, flower.jpg) and matplotlib's
                                         grace_hopper.jpg; 32x32 RGB PNG mostly; a few are 48x36
                                         (they need --resize and --crop), 16-bit RGB PNGs, RGBA
                                         PNGs, palette PNGs and binary PPMs (P6)
  images/gray/{train,test}/<class>/      crops of ten grayscale images of skimage.data, 28x28
                                         PNG mostly; also 16-bit PNG, gray+alpha PNG, RGB PNG,
                                         PGM (P5, P2, 16-bit P5), PPM (P6), a 56x56 and a 40x28
                                         image, and in train/coins deliberately broken files
                                         (truncated PNG, bad CRC, text named .png, empty PGM,
                                         short PPM raster), a .txt and a .jpg (not read) and a
                                         hidden file (ignored)
  images/expected.npz                    PIL references for the decoder tests: Image.resize
                                         with BILINEAR (down, up, stretch), convert("L"), and
                                         torchvision's Resize(32) + CenterCrop(32) written out
                                         with PIL (see fit_reference)
  cifar10/cifar-10-binary.tar.gz         an archive in the official CIFAR-10 binary format
                                         (GNU tar, gzip): cifar-10-batches-bin/data_batch_1..5.bin
                                         with 2 records each, test_batch.bin with 4,
                                         batches.meta.txt and readme.html; each record 1 label
                                         byte + 1024 red, 1024 green, 1024 blue bytes of a 32x32
                                         image (here 32x32 crops of the ten colour photographs,
                                         the label being the photograph's index, not a CIFAR class)

Test crops come from the right quarter of each source image, training and validation crops
from the rest, so the test set is not made of the training pixels; nearly uniform crops (the
black around the retina, the sky of the Hubble field) are drawn again. Sources and licences:
images/README.md. Not run by CI (the files it makes are committed); run it from anywhere with
numpy, Pillow, scikit-image, scikit-learn and matplotlib installed:

  python3 -m venv /tmp/venv && /tmp/venv/bin/pip install numpy pillow scikit-image scikit-learn matplotlib
  /tmp/venv/bin/python Tests/Fixtures/data/make_image_fixtures.py
"""
import gzip
import io
import os
import shutil
import struct
import tarfile
import zlib

import matplotlib
import numpy as np
from PIL import Image
import skimage
import sklearn

HERE = os.path.dirname(os.path.abspath(__file__))
SKDATA = os.path.join(os.path.dirname(skimage.__file__), "data")
SKLEARN = os.path.join(os.path.dirname(sklearn.__file__), "datasets", "images")
MPL = os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "sample_data")
rng = np.random.RandomState(19)


def source(name, mode):
    for d in (SKDATA, SKLEARN, MPL):
        if os.path.exists(os.path.join(d, name)):
            return Image.open(os.path.join(d, name)).convert(mode)
    raise FileNotFoundError(name)


def crop(img, test, size):
    """A random square crop of the training part (left 3/4) or the test part (right 1/4),
    scaled to `size` (w, h) with an antialiasing filter; nearly uniform crops are drawn again
    (the most varied of 20 draws is taken if none varies enough)."""
    w, h = img.size
    x0, x1 = (3 * w // 4, w) if test else (0, 3 * w // 4)
    hi = min(w // 4, h)
    best = None
    for _ in range(20):
        side = rng.randint(hi // 2, hi + 1)
        x = rng.randint(x0, x1 - side + 1)
        y = rng.randint(0, h - side + 1)
        c = img.crop((x, y, x + side, y + side)).resize(size, Image.LANCZOS)
        spread = np.asarray(c).std()
        if spread >= 12:
            return c
        if best is None or spread > best[0]:
            best = (spread, c)
    return best[1]


def save(img, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    img.save(path, optimize=True)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def png_chunk(t, data):
    return struct.pack(">I", len(data)) + t + data + struct.pack(">I", zlib.crc32(t + data) & 0xFFFFFFFF)


def png16(arr):
    """A 16-bit PNG (gray: color type 0, RGB: 2) of a uint16 array, filter 0."""
    h, w = arr.shape[:2]
    color = 0 if arr.ndim == 2 else 2
    raw = b"".join(b"\x00" + arr[y].astype(">u2").tobytes() for y in range(h))
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, color, 0, 0, 0))
            + png_chunk(b"IDAT", zlib.compress(raw, 9)) + png_chunk(b"IEND", b""))


def netpbm(arr, ascii=False, maxval=255):
    h, w = arr.shape[:2]
    rgb = arr.ndim == 3
    magic = (b"P3" if rgb else b"P2") if ascii else (b"P6" if rgb else b"P5")
    head = magic + b"\n# modelc fixture\n%d %d\n%d\n" % (w, h, maxval)
    if ascii:
        return head + " ".join(str(v) for v in arr.reshape(-1)).encode() + b"\n"
    return head + arr.astype(">u2" if maxval > 255 else np.uint8).tobytes()


# ---- RGB set: 10 classes, train/val/test ----
RGB = {"astronaut": "astronaut.png", "chelsea": "chelsea.png", "china": "china.jpg", "coffee": "coffee.png",
       "flower": "flower.jpg", "grace_hopper": "grace_hopper.jpg", "hubble": "hubble_deep_field.jpg",
       "ihc": "ihc.png", "retina": "retina.jpg", "rocket": "rocket.jpg"}
for d in ("rgb", "gray", "expected.npz"):
    p = os.path.join(HERE, "images", d)
    shutil.rmtree(p, ignore_errors=True) if os.path.isdir(p) else (os.path.exists(p) and os.remove(p))
for n, (cls, name) in enumerate(RGB.items()):
    img = source(name, "RGB")
    for split, count in (("train", 8), ("val", 1), ("test", 2)):
        for i in range(count):
            base = os.path.join(HERE, "images/rgb", split, cls, "%s_%02d" % (split, i))
            kind = i if split == "train" else 0
            if kind == 1:   # larger and not square: needs --resize and --crop
                save(crop(img, split == "test", (48, 36)), base + ".png")
                continue
            c = crop(img, split == "test", (32, 32))
            a = np.asarray(c)
            if kind == 2:
                write(base + ".ppm", netpbm(a))
            elif kind == 3 and n < 2:
                write(base + "_16bit.png", png16(a.astype(np.uint16) * 257))
            elif kind == 4:
                alpha = np.full(a.shape[:2], 255, np.uint8)
                alpha[:4, :4] = 0            # a transparent corner: composited over black
                save(Image.fromarray(np.dstack([a, alpha]), "RGBA"), base + "_rgba.png")
            elif kind == 5:
                save(c.quantize(64), base + "_palette.png")
            else:
                save(c, base + ".png")

# ---- gray set: 10 classes, train/test, 28x28 ----
GRAY = {"brick": "brick.png", "camera": "camera.png", "cell": "cell.png", "clock": "clock_motion.png",
        "coins": "coins.png", "grass": "grass.png", "gravel": "gravel.png", "moon": "moon.png",
        "page": "page.png", "text": "text.png"}
for cls, name in GRAY.items():
    img = source(name, "L")
    for split, count in (("train", 8), ("test", 2)):
        for i in range(count):
            base = os.path.join(HERE, "images/gray", split, cls, "%s_%02d" % (split, i))
            variant = (cls, i) if split == "train" else None
            if variant == ("camera", 1):
                write(base + "_16bit.png", png16(np.asarray(crop(img, False, (28, 28))).astype(np.uint16) * 257 + 128))
            elif variant == ("coins", 1):
                write(base + ".pgm", netpbm(np.asarray(crop(img, False, (28, 28)))))
            elif variant == ("coins", 2):
                write(base + "_ascii.pgm", netpbm(np.asarray(crop(img, False, (28, 28))), ascii=True))
            elif variant == ("moon", 1):
                write(base + "_16bit.pgm", netpbm(np.asarray(crop(img, False, (28, 28))).astype(np.uint16) * 257, maxval=65535))
            elif variant == ("page", 1):
                g = np.asarray(crop(img, False, (28, 28)))
                write(base + ".ppm", netpbm(np.dstack([g, g, (g * 0.9).astype(np.uint8)])))
            elif variant == ("text", 1):
                g = np.asarray(crop(img, False, (28, 28)))
                save(Image.fromarray(np.dstack([g, np.full_like(g, 200)]), "LA"), base + "_alpha.png")
            elif variant == ("clock", 1):
                save(crop(img, False, (28, 28)).convert("RGB"), base + "_rgb.png")
            elif variant == ("grass", 1):
                save(crop(img, False, (56, 56)), base + "_56.png")
            elif variant == ("gravel", 1):
                save(crop(img, False, (40, 28)), base + "_40x28.png")
            else:
                save(crop(img, split == "test", (28, 28)), base + ".png")

# broken files, a non-image and a hidden file in gray/train/coins
coins = os.path.join(HERE, "images/gray/train/coins")
good = open(os.path.join(coins, "train_00.png"), "rb").read()
write(os.path.join(coins, "broken_truncated.png"), good[: len(good) // 2])
bad = bytearray(good); bad[29] ^= 0xFF                       # inside IHDR: its CRC no longer matches
write(os.path.join(coins, "broken_crc.png"), bytes(bad))
write(os.path.join(coins, "broken_text.png"), b"this is not an image\n")
write(os.path.join(coins, "broken_empty.pgm"), b"")
write(os.path.join(coins, "broken_short.ppm"), b"P6 28 28 255\n" + bytes(100))
write(os.path.join(coins, "notes.txt"), b"crops of skimage.data.coins\n")
write(os.path.join(coins, "photo.jpg"), b"\xff\xd8\xff\xe0 a JPEG would be here\n")
write(os.path.join(coins, ".hidden.png"), b"ignored: hidden files are not read\n")


# ---- PIL references ----
def fit_reference(img, side):
    """torchvision's Resize(side) + CenterCrop(side) on a PIL image, written out with PIL."""
    w, h = img.size
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = side, int(side * long / short)
    nw, nh = (new_short, new_long) if w <= h else (new_long, new_short)
    r = img.resize((nw, nh), Image.BILINEAR)
    top, left = int(round((nh - side) / 2.0)), int(round((nw - side) / 2.0))
    return r.crop((left, top, left + side, top + side))


g56 = Image.open(os.path.join(HERE, "images/gray/train/grass/train_01_56.png"))
g40 = Image.open(os.path.join(HERE, "images/gray/train/gravel/train_01_40x28.png"))
g28 = Image.open(os.path.join(HERE, "images/gray/train/brick/train_00.png"))
rgb48 = Image.open(os.path.join(HERE, "images/rgb/train/coffee/train_01.png"))
rgb32 = Image.open(os.path.join(HERE, "images/rgb/train/rocket/train_00.png"))
expected = {
    "gray56_to_28x28": g56.resize((28, 28), Image.BILINEAR),         # shrinking by 2
    "gray40x28_to_28x28": g40.resize((28, 28), Image.BILINEAR),      # one axis only
    "gray28_to_45x37": g28.resize((45, 37), Image.BILINEAR),         # enlarging, odd sizes
    "rgb48x36_to_32x32": rgb48.resize((32, 32), Image.BILINEAR),
    "rgb48x36_to_13x7": rgb48.resize((13, 7), Image.BILINEAR),       # shrinking by 3.7 and 5.1
    "rgb48x36_fit32": fit_reference(rgb48, 32),
    "gray56_fit20": fit_reference(g56, 20),
    "rgb32_luma": rgb32.convert("L"),
}
np.savez(os.path.join(HERE, "images/expected.npz"), **{k: np.asarray(v) for k, v in expected.items()})

# ---- CIFAR-10 binary format ----
photos = [source(n, "RGB") for n in RGB.values()]


def batch(n, first):
    out = b""
    for k in range(n):
        label = (first + k) % 10
        a = np.asarray(crop(photos[label], k % 2 == 1, (32, 32)))
        out += bytes([label]) + a[:, :, 0].tobytes() + a[:, :, 1].tobytes() + a[:, :, 2].tobytes()
    return out


members = [("data_batch_%d.bin" % i, batch(2, 2 * (i - 1))) for i in range(1, 6)]
members += [("test_batch.bin", batch(4, 3)),
            ("batches.meta.txt", "\n".join(["airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                                            "horse", "ship", "truck"]).encode() + b"\n\n"),
            ("readme.html", b"<meta HTTP-EQUIV=\"REFRESH\" content=\"0; url=http://www.cs.toronto.edu/~kriz/cifar.html\">\n")]
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
    d = tarfile.TarInfo("cifar-10-batches-bin"); d.type = tarfile.DIRTYPE; d.mode = 0o755; d.mtime = 1243000000
    tar.addfile(d)
    for name, data in members:
        info = tarfile.TarInfo("cifar-10-batches-bin/" + name)
        info.size, info.mode, info.mtime = len(data), 0o644, 1243000000
        tar.addfile(info, io.BytesIO(data))
os.makedirs(os.path.join(HERE, "cifar10"), exist_ok=True)
with open(os.path.join(HERE, "cifar10/cifar-10-binary.tar.gz"), "wb") as f:
    with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0) as z:
        z.write(buf.getvalue())
print("done")
