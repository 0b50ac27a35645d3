#!/usr/bin/env python3
"""Makes the data fixtures in this directory (run once; the outputs are committed).

Needs numpy (fixture generation only; modelc never runs Python). Deterministic: no
timestamps in gzip headers, fixed random seed.

    cd Tests/Fixtures/data && python3 make_fixtures.py
"""
import gzip, io, os, struct, zlib
import numpy as np

rng = np.random.default_rng(1234)
here = os.path.dirname(os.path.abspath(__file__))

def path(*p):
    full = os.path.join(here, *p)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    return full

def gz(data):
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9, mtime=0, filename="") as f:
        f.write(data)
    return buf.getvalue()

def idx(arr):
    codes = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D, np.float64: 0x0E}
    code = codes[arr.dtype.type]
    head = bytes([0, 0, code, arr.ndim]) + b"".join(struct.pack(">I", d) for d in arr.shape)
    return head + arr.astype(arr.dtype.newbyteorder(">")).tobytes()

def write(name, data):
    with open(path(name), "wb") as f:
        f.write(data)

# ---- KMNIST-format dataset: 24 train + 12 test images, labels cycling through 0..9 ----
def images(n, seed):
    r = np.random.default_rng(seed)
    a = r.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    a[:, :4, :] = 0          # some structure so deflate has work to do
    return a

ktr, kte = images(24, 1), images(12, 2)
ltr = (np.arange(24) % 10).astype(np.uint8)
lte = ((np.arange(12) * 3) % 10).astype(np.uint8)
write("kmnist/train-images-idx3-ubyte.gz", gz(idx(ktr)))
write("kmnist/train-labels-idx1-ubyte.gz", gz(idx(ltr)))
write("kmnist/t10k-images-idx3-ubyte.gz", gz(idx(kte)))
write("kmnist/t10k-labels-idx1-ubyte.gz", gz(idx(lte)))
# The official .npz files hold one array under arr_0; the train pair compressed, the test pair stored.
np.savez_compressed(path("kmnist-npz/kmnist-train-imgs.npz"), ktr)
np.savez_compressed(path("kmnist-npz/kmnist-train-labels.npz"), ltr)
np.savez(path("kmnist-npz/kmnist-test-imgs.npz"), kte)
np.savez(path("kmnist-npz/kmnist-test-labels.npz"), lte)
# Raw (not gzip) IDX, same content as the kmnist test split.
write("raw/t10k-images-idx3-ubyte", idx(kte))
write("raw/t10k-labels-idx1-ubyte", idx(lte))

# ---- NPY / NPZ with every supported dtype ----
arrays = {
    "f4": np.linspace(-1.5, 2.5, 12, dtype=np.float32).reshape(3, 4),
    "f8": np.array([1e-300, -2.5, 3.25], dtype=np.float64),
    "i8": np.array([[-(2**40), 7], [0, 2**40]], dtype=np.int64),
    "i4": np.array([-5, 0, 5, 2**31 - 1], dtype=np.int32),
    "u1": np.arange(250, 256, dtype=np.uint8).reshape(2, 3),
    "scalar": np.array(4.5, dtype=np.float32),
}
np.savez(path("npz/stored.npz"), **arrays)
np.savez_compressed(path("npz/compressed.npz"), **arrays)
np.savez(path("npz/layered.npz"), **{"conv2d_1/kernel": np.arange(2 * 2 * 1 * 3, dtype=np.float32).reshape(2, 2, 1, 3),
                                      "conv2d_1/bias": np.array([0.5, -0.5, 0.25], dtype=np.float32)})
np.save(path("npz/f4.npy"), arrays["f4"])
np.save(path("npz/fortran.npy"), np.asfortranarray(arrays["f4"]))
np.save(path("npz/bigendian.npy"), arrays["f4"].astype(">f4"))
with open(path("npz/v2.npy"), "wb") as f:
    np.lib.format.write_array(f, arrays["i4"], version=(2, 0))
np.save(path("npz/structured.npy"), np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]))

# ---- PNG ----
def png_chunk(t, data):
    return struct.pack(">I", len(data)) + t + data + struct.pack(">I", zlib.crc32(t + data) & 0xFFFFFFFF)

def filt(ftype, row, prev, bpp):
    out = bytearray(len(row))
    for i in range(len(row)):
        a = row[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if ftype == 0: p = 0
        elif ftype == 1: p = a
        elif ftype == 2: p = b
        elif ftype == 3: p = (a + b) // 2
        else:
            pp = a + b - c
            pa, pb, pc = abs(pp - a), abs(pp - b), abs(pp - c)
            p = a if (pa <= pb and pa <= pc) else (b if pb <= pc else c)
        out[i] = (row[i] - p) & 0xFF
    return bytes(out)

def pack_rows(rows, bits_per_pixel, filters):
    """rows: list of lists of sample ints per row (already packed bytes); returns filtered bytes."""
    bpp = max(1, bits_per_pixel // 8)
    out = bytearray()
    prev = bytes(len(rows[0])) if rows else b""
    for y, row in enumerate(rows):
        ft = filters[y % len(filters)]
        out.append(ft)
        out += filt(ft, row, prev, bpp)
        prev = row
    return bytes(out)

def row_bytes(samples, depth):
    if depth == 8: return bytes(samples)
    if depth == 16: return b"".join(struct.pack(">H", s) for s in samples)
    out, acc, n = bytearray(), 0, 0
    for s in samples:
        acc = (acc << depth) | s; n += depth
        if n == 8: out.append(acc); acc, n = 0, 0
    if n: out.append(acc << (8 - n))
    return bytes(out)

def png(name, width, height, color, depth, pixels, filters=(0,), interlace=0, palette=None, trns=None,
        level=9, strategy=None):
    """pixels: numpy array (h, w, samples) of sample values."""
    samples = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color]
    bits = samples * depth
    if interlace == 0:
        rows = [row_bytes(list(pixels[y].reshape(-1)), depth) for y in range(height)]
        raw = pack_rows(rows, bits, filters)
    else:
        raw = b""
        for (x0, y0, dx, dy) in [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]:
            sub = pixels[y0::dy, x0::dx]
            if sub.shape[0] == 0 or sub.shape[1] == 0: continue
            rows = [row_bytes(list(sub[y].reshape(-1)), depth) for y in range(sub.shape[0])]
            raw += pack_rows(rows, bits, filters)
    if strategy is None:
        comp = zlib.compress(raw, level)
    else:
        c = zlib.compressobj(level, zlib.DEFLATED, 15, 9, strategy)
        comp = c.compress(raw) + c.flush()
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, interlace))
    if palette is not None: data += png_chunk(b"PLTE", bytes(palette))
    if trns is not None: data += png_chunk(b"tRNS", bytes(trns))
    data += png_chunk(b"tEXt", b"Comment\x00modelc fixture")   # ancillary chunk, skipped
    # Split the image data over two IDAT chunks.
    half = len(comp) // 2
    data += png_chunk(b"IDAT", comp[:half]) + png_chunk(b"IDAT", comp[half:]) + png_chunk(b"IEND", b"")
    write("png/" + name, data)
    return data

expected = {}
W, H = 13, 11   # odd sizes exercise partial bytes and Adam7 edge passes
yy, xx = np.mgrid[0:H, 0:W]
gray = ((xx * 19 + yy * 23 + (xx * yy) % 7 * 9) % 256).astype(np.int64)
rgb = np.stack([gray, (gray * 3) % 256, 255 - gray], axis=-1).astype(np.uint8)
alpha = ((xx * 40 + yy * 5) % 256).astype(np.uint8)
g16 = gray.astype(np.uint16) * 257 + 3
gray = gray.astype(np.uint8)
for f in range(5):
    png(f"gray_filter{f}.png", W, H, 0, 8, gray[..., None], filters=(f,))
    expected[f"gray_filter{f}"] = gray[..., None]
png("gray_allfilters.png", W, H, 0, 8, gray[..., None], filters=(0, 1, 2, 3, 4))
expected["gray_allfilters"] = gray[..., None]
png("gray_stored.png", W, H, 0, 8, gray[..., None], filters=(4, 3), level=0)
expected["gray_stored"] = gray[..., None]
png("gray_fixed.png", W, H, 0, 8, gray[..., None], filters=(1,), strategy=zlib.Z_FIXED)
expected["gray_fixed"] = gray[..., None]
png("rgb.png", W, H, 2, 8, rgb, filters=(0, 1, 2, 3, 4))
expected["rgb"] = rgb
png("rgba.png", W, H, 6, 8, np.concatenate([rgb, alpha[..., None]], axis=-1), filters=(4, 2, 1))
expected["rgba"] = np.concatenate([rgb, alpha[..., None]], axis=-1)
png("gray_alpha.png", W, H, 4, 8, np.stack([gray, alpha], axis=-1), filters=(3, 4))
expected["gray_alpha"] = np.stack([gray, alpha], axis=-1)
pal = np.array([[i * 16, 255 - i * 16, (i * 37) % 256] for i in range(16)], dtype=np.uint8)
idx8 = (gray % 16).astype(np.uint8)
png("palette8.png", W, H, 3, 8, idx8[..., None], filters=(0, 1, 2, 3, 4), palette=pal.reshape(-1))
expected["palette8"] = pal[idx8]
png("palette4_trns.png", W, H, 3, 4, idx8[..., None], filters=(1, 4), palette=pal.reshape(-1), trns=[0, 128, 255])
a4 = np.full(idx8.shape, 255, dtype=np.uint8); a4[idx8 == 0] = 0; a4[idx8 == 1] = 128
expected["palette4_trns"] = np.concatenate([pal[idx8], a4[..., None]], axis=-1)
bits1 = (gray > 127).astype(np.uint8)
png("gray1.png", W, H, 0, 1, bits1[..., None], filters=(0, 2))
expected["gray1"] = (bits1 * 255)[..., None]
png("gray16.png", W, H, 0, 16, g16[..., None], filters=(4,))
expected["gray16"] = ((g16.astype(np.int64) * 255 + 65535 // 2) // 65535).astype(np.uint8)[..., None]   # rounded, as PGM
png("rgb_adam7.png", W, H, 2, 8, rgb, filters=(0, 1, 2, 3, 4), interlace=1)
expected["rgb_adam7"] = rgb
png("gray_adam7.png", W, H, 0, 8, gray[..., None], filters=(4, 1), interlace=1)
expected["gray_adam7"] = gray[..., None]
# A 28x28 digit-like image for predict tests: the first KMNIST fixture image.
png("digit28.png", 28, 28, 0, 8, ktr[0][..., None], filters=(0, 1, 2, 3, 4))
expected["digit28"] = ktr[0][..., None]
np.savez(path("png/expected.npz"), **{k: v.astype(np.uint8) for k, v in expected.items()})

# ---- PGM ----
write("pgm/p5.pgm", b"P5\n# a comment\n13 11\n255\n" + gray.tobytes())
p2 = "P2\n# ascii\n13 11 # trailing comment\n255\n" + "\n".join(" ".join(str(v) for v in row) for row in gray) + "\n"
write("pgm/p2.pgm", p2.encode())
write("pgm/p5_16bit.pgm", b"P5 13 11 65535\n" + g16.astype(">u2").tobytes())
small = (gray % 16).astype(np.uint8)
write("pgm/p2_max15.pgm", ("P2 13 11 15\n" + " ".join(str(v) for v in small.reshape(-1)) + "\n").encode())
np.savez(path("pgm/expected.npz"), p5=gray, p2=gray, p5_16bit=(g16 >> 8).astype(np.uint8) if False else
         ((g16.astype(np.int64) * 255 + 65535 // 2) // 65535).astype(np.uint8),
         p2_max15=((small.astype(np.int64) * 255 + 7) // 15).astype(np.uint8))

# ---- Kaggle CSV ----
def csv(name, first, rows, firstvals):
    head = ([first] if first else []) + [f"pixel{i}" for i in range(784)]
    lines = [",".join(head)]
    for v, r in zip(firstvals, rows):
        lines.append(",".join(([str(v)] if first else []) + [str(int(x)) for x in r.reshape(-1)]))
    write("csv/" + name, ("\n".join(lines) + "\n").encode())

csv("train.csv", "label", ktr[:5], ltr[:5])
csv("test.csv", "id", kte[:3], range(3))
with open(path("csv/Dig-MNIST.csv"), "wb") as f:   # CRLF line ends, as some exports have
    f.write(open(path("csv/train.csv"), "rb").read().replace(b"\n", b"\r\n"))

# ---- Corrupt variants ----
good = gz(idx(kte))
write("corrupt/truncated-images-idx3-ubyte.gz", good[: len(good) // 2])
bad = bytearray(good); bad[-6] ^= 0xFF                     # CRC32 field
write("corrupt/badcrc-images-idx3-ubyte.gz", bytes(bad))
bad = bytearray(good); bad[-2] ^= 0x01                     # ISIZE field
write("corrupt/badisize-images-idx3-ubyte.gz", bytes(bad))
write("corrupt/lying-images-idx3-ubyte", bytes([0, 0, 8, 3]) + struct.pack(">III", 1_000_000_000, 28, 28))
write("corrupt/short-images-idx3-ubyte", idx(kte)[:-100])
raw = open(path("png/rgb.png"), "rb").read()
bad = bytearray(raw); bad[20] ^= 0x10                      # a byte of the IHDR height: chunk CRC fails
write("corrupt/badcrc.png", bytes(bad))
write("corrupt/truncated.png", raw[: len(raw) - 30])
zs = open(path("npz/stored.npz"), "rb").read()
i = zs.find(b"\x93NUMPY") + 80                             # inside the first array's data
bad = bytearray(zs); bad[i] ^= 0xFF
write("corrupt/badcrc.npz", bytes(bad))
write("corrupt/truncated.npz", zs[: len(zs) // 2])
write("corrupt/badrow.csv", open(path("csv/train.csv"), "rb").read().replace(b"\n4,", b"\n4,x", 1))
print("fixtures written")
