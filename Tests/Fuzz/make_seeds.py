#!/usr/bin/env python3
"""Regenerates the synthetic fuzzing seeds (run from the repository root; Python for fixtures only).

Most seeds are copies of real files (see Tests/Fuzz/README.md). This script writes the rest:
  seeds/inflate/*.deflate   raw DEFLATE streams of real fixture bytes (stored, fixed, dynamic,
                            RLE and Huffman-only blocks, and an empty stream)
  seeds/gzip/text.gz        a real summary table, gzip-compressed
  seeds/checkpoint/small_adam.ckpt
                            a 6-parameter checkpoint with training state and two Adam slots,
                            written in the documented format of Sources/ModelcRuntime/Checkpoint.swift
  seeds/ppm/*, seeds/tar/*, seeds/cifar/*
                            copies of the image-folder and CIFAR-10 fixtures (PPM files, the CIFAR-10
                            archive and one of its batches), tar archives in the pax and GNU formats
                            with long names, and truncated forms of each
  seeds/imagecache/small.images
                            a 3-entry image-folder cache (one entry with a problem), written in the
                            documented format of Sources/ModelcRuntime/ImageFolderCache.swift
(seeds/checkpoint/tiny_mlp_training.ckpt is a real checkpoint written by modelc-testtrainer:
 `modelc-testtrainer train --data Tests/Fixtures/data/kmnist --checkpoint tiny.ckpt --epochs 2 --batch 16 --val-split 0.2 --seed 3`.
 seeds/imagecache/gray_test.images is a real cache written by modelc-testtrainer on a copy of the
 gray image folder: `cp -r Tests/Fixtures/data/images/gray /tmp/g && modelc-testtrainer train --data /tmp/g
 --resize --crop --epochs 1 --test-each-epoch`, then /tmp/g/.modelc-cache/test-28x28x1-resize-crop.images.)
"""
import gzip, io, os, shutil, struct, tarfile, zlib

S = 'Tests/Fuzz/seeds'

def raw(data, level=6, strategy=zlib.Z_DEFAULT_STRATEGY):
    c = zlib.compressobj(level, zlib.DEFLATED, -15, 9, strategy)
    return c.compress(data) + c.flush()

labels = open('Tests/Fixtures/data/raw/t10k-labels-idx1-ubyte', 'rb').read()
text = open('Tests/Fixtures/summaries/keras2_param_header_srcnn.txt', 'rb').read()
image = open('Tests/Fixtures/data/raw/t10k-images-idx3-ubyte', 'rb').read()[:3000]
open(f'{S}/inflate/stored.deflate', 'wb').write(raw(text[:500], 0))
open(f'{S}/inflate/fixed.deflate', 'wb').write(raw(text[:300], 6, zlib.Z_FIXED))
open(f'{S}/inflate/dynamic_text.deflate', 'wb').write(raw(text, 9))
open(f'{S}/inflate/dynamic_image.deflate', 'wb').write(raw(image, 6))
open(f'{S}/inflate/rle.deflate', 'wb').write(raw(image, 6, zlib.Z_RLE))
open(f'{S}/inflate/huffman_only.deflate', 'wb').write(raw(labels, 6, zlib.Z_HUFFMAN_ONLY))
open(f'{S}/inflate/empty.deflate', 'wb').write(raw(b''))
open(f'{S}/gzip/text.gz', 'wb').write(gzip.compress(text, mtime=0))

def s(x): b = x.encode(); return struct.pack('<I', len(b)) + b
def q(v): return struct.pack('<Q', v)
def d(v): return struct.pack('<d', v)
p = s('tiny') + s('fp0123') + q(6) + struct.pack('<I', 2)
p += s('dense/kernel') + struct.pack('<I', 2) + q(2) + q(2) + q(0) + b'\x01'
p += s('dense/bias') + struct.pack('<I', 1) + q(2) + q(4) + b'\x01'
p += struct.pack('<6f', 0.1, -0.2, 0.3, 0.4, 0, 1)
p += b'\x01' + struct.pack('<I', 2) + s('lr') + s('0.01') + s('batch') + s('16')
p += q(1) + q(2) + q(5) + d(1.5) + q(3) + q(4) + d(0.2) + d(0.5) + q(1) + d(float('nan')) + q(0) + b'\x00'
p += struct.pack('<I', 1) + q(1) + d(2.3) + d(0.1) + d(2.4) + d(0.2) + d(0.01) + d(1000)
p += s('adam') + q(5) + struct.pack('<I', 2) + q(6) + struct.pack('<6f', *[0.01] * 6) + q(6) + struct.pack('<6f', *[0.02] * 6)
open(f'{S}/checkpoint/small_adam.ckpt', 'wb').write(b'MODELCKP' + struct.pack('<IQI', 1, len(p), zlib.crc32(p)) + p)

# ---- issue 19: PPM, tar, CIFAR-10 batches, image-folder caches ----
IMG = 'Tests/Fixtures/data/images'
for d in ('ppm', 'tar', 'cifar', 'imagecache'):
    os.makedirs(f'{S}/{d}', exist_ok=True)
shutil.copy(f'{IMG}/rgb/train/astronaut/train_02.ppm', f'{S}/ppm/rgb_p6.ppm')
shutil.copy(f'{IMG}/gray/train/page/train_01.ppm', f'{S}/ppm/gray_p6.ppm')
shutil.copy(f'{IMG}/gray/train/coins/train_02_ascii.pgm', f'{S}/ppm/ascii_p2.pgm')
open(f'{S}/ppm/p3_16bit.ppm', 'wb').write(b'P3\n# 16-bit ascii\n2 2\n65535\n0 1 2 300 65535 7\n9 9 9 1000 2000 3000\n')
open(f'{S}/ppm/truncated_p6.ppm', 'wb').write(open(f'{IMG}/rgb/train/astronaut/train_02.ppm', 'rb').read()[:1000])

cifar = open('Tests/Fixtures/data/cifar10/cifar-10-binary.tar.gz', 'rb').read()
open(f'{S}/tar/cifar-10-binary.tar.gz', 'wb').write(cifar)
open(f'{S}/tar/truncated_cifar.tar.gz', 'wb').write(cifar[:5000])
for fmt, name in ((tarfile.PAX_FORMAT, 'pax_long_names.tar'), (tarfile.GNU_FORMAT, 'gnu_long_names.tar')):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=fmt) as t:
        for n, data in (('a/' * 70 + 'long.bin', b'x' * 700), ('short.txt', b'hello\n'), ('dir/', None)):
            info = tarfile.TarInfo(n.rstrip('/'))
            info.mtime = 0
            if data is None:
                info.type = tarfile.DIRTYPE
                t.addfile(info)
            else:
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
    open(f'{S}/tar/{name}', 'wb').write(buf.getvalue())
    if fmt == tarfile.PAX_FORMAT:
        open(f'{S}/tar/truncated_pax.tar', 'wb').write(buf.getvalue()[:700])
with tarfile.open('Tests/Fixtures/data/cifar10/cifar-10-binary.tar.gz') as t:
    batch = t.extractfile('cifar-10-batches-bin/data_batch_1.bin').read()
open(f'{S}/cifar/data_batch_1.bin', 'wb').write(batch)
open(f'{S}/cifar/truncated_batch.bin', 'wb').write(batch[:4000])

def i(v): return struct.pack('<q', v)
p = s('rules 1; fit 2x2x1') + struct.pack('<I', 2) + s('cat') + s('dog') + q(3)
p += s('cat/1.png') + i(120) + i(1700000000123456789) + i(-5) + struct.pack('<I', 0) + b'\x01'
p += s('cat/bad.png') + i(9) + i(2) + i(3) + struct.pack('<I', 0) + b'\x00' + s('offset 0: unknown image format')
p += s('dog/2.pgm') + i(70) + i(4) + i(5) + struct.pack('<I', 1) + b'\x01'
p += struct.pack('<III', 2, 2, 1) + bytes([1, 2, 3, 4, 5, 6, 7, 8])
open(f'{S}/imagecache/small.images', 'wb').write(b'MODELCIM' + struct.pack('<IQI', 1, len(p), zlib.crc32(p)) + p)

# seeds/onnx/squeezed_batchnorm.onnx and shape_start_end.onnx: the two export forms that
# ONNXSqueezedBatchNorm and ONNXShapeComputation's Shape start / end read (needs the onnx package:
# ~/.cache/modelc-peers/venv/bin/python Tests/Fuzz/make_seeds.py).
try:
    import onnx
    from onnx import helper, TensorProto
except ImportError:
    onnx = None
if onnx is not None:
    def f32(name, dims, v): return helper.make_tensor(name, TensorProto.FLOAT, dims, [v] * (dims[0] if len(dims) == 1 else dims[0] * dims[1]))
    def onnx_seed(name, nodes, inits, dims, opset):
        g = helper.make_graph(nodes, 'g', [helper.make_tensor_value_info('x', TensorProto.FLOAT, dims)],
                              [helper.make_tensor_value_info('y', TensorProto.FLOAT, None)], inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid('', opset)], producer_name='modelc seeds')
        open(f'{S}/onnx/{name}', 'wb').write(m.SerializeToString())
    axes = helper.make_tensor('axes', TensorProto.INT64, [1], [2])
    onnx_seed('squeezed_batchnorm.onnx', [
        helper.make_node('Gemm', ['x', 'fc.weight', 'fc.bias'], ['h'], transB=1),
        helper.make_node('Unsqueeze', ['h', 'axes'], ['u']),
        helper.make_node('BatchNormalization', ['u', 'bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var'], ['n']),
        helper.make_node('Squeeze', ['n', 'axes'], ['q']), helper.make_node('Softmax', ['q'], ['y'])],
        [f32('fc.weight', [3, 4], 0.1), f32('fc.bias', [3], 0.0), f32('bn.weight', [3], 1.0), f32('bn.bias', [3], 0.0),
         f32('bn.running_mean', [3], 0.0), f32('bn.running_var', [3], 1.0), axes], ['N', 4], 13)
    onnx_seed('shape_start_end.onnx', [
        helper.make_node('Shape', ['x'], ['s'], start=0, end=1), helper.make_node('Relu', ['x'], ['a']),
        helper.make_node('Concat', ['s', 'minus1'], ['shape'], axis=0), helper.make_node('Reshape', ['a', 'shape'], ['f']),
        helper.make_node('Gemm', ['f', 'fc.weight', 'fc.bias'], ['y'], transB=1)],
        [helper.make_tensor('minus1', TensorProto.INT64, [1], [-1]), f32('fc.weight', [3, 8], 0.1), f32('fc.bias', [3], 0.0)],
        ['N', 2, 2, 2], 18)
