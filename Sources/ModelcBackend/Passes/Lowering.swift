// Lowering pass.
//
// Before: the layer chain the emitter runs (final softmax stripped) and its FusionPlan.
// After:  a LoweringPlan (graphs: GraphFlow says which layers need an input gradient): for every layer, the kernel and form of its forward pass, its input
//         gradient and its weight gradient, the fused group it produces or is folded into, how
//         one image's work is split over the threads, and a one-line reason for each choice.
//         The operator emitters take their choices from it (Conv2DEmitter: direct or Winograd
//         forward, pixel rows or tiles for one image, direct, Winograd or scatter input
//         gradient); the emitter attaches the buffers each layer declares. The layer chain is
//         unchanged. `modelc check --plan` prints the plan; `--json` carries it under "plan".

import ModelcCore

/// One kernel choice: which kernel of the runtime (or which emitted loop nest), in which form, and why.
public struct KernelChoice: Equatable, Sendable {
    public var kernel: String
    public var form: String
    public var reason: String
}

/// A buffer a layer declares: floats per image (activations), per thread chunk (scratch) or fixed.
public struct PlannedBuffer: Equatable, Sendable {
    public var name: String
    public var perImage: Int
    public var perChunk: Int
    public var fixed: Int
    public var description: String
}

public struct LayerLowering: Equatable, Sendable {
    public var name: String
    public var kind: String
    public var forward: KernelChoice
    public var inputGradient: KernelChoice?
    public var weightGradient: KernelChoice?
    /// "conv2d_1 + batch_normalization_1 + re_lu_1" for a producer, "folded into conv2d_1" for a folded layer.
    public var fusion: String?
    /// How one image's inference is spread over the threads.
    public var singleImage: String
    public var buffers: [PlannedBuffer] = []
    /// Conv2D only: the choices the emitter reads.
    var conv: ConvLowering? = nil
}

public struct LoweringPlan: Equatable, Sendable {
    /// How a batch is split over the threads (the same for every layer).
    public static let batchThreads = "batch: the images are cut into one chunk per thread; each layer runs its chunk, weight gradients are summed over the chunks"
    public var layers: [LayerLowering]
}

/// The choices for one Conv2D (stride, padding and kernel as Conv2DAttrs gives them).
struct ConvLowering: Equatable, Sendable {
    enum InputGradient: String, Sendable { case none, direct, winograd, scatter }
    /// One image's output pixels (or tiles) are split over the threads.
    var splitSingleImage: Bool
    /// The batch forward (inference and training) runs Winograd F(m x m, r x r) with this m.
    var winogradTile: Int?
    /// Single-image inference uses the tiles too.
    var winogradSingleImage: Bool
    /// Single-image inference splits blocks of `rowsPerBlock` pixels x `columnBlock` channels
    /// over the threads rather than blocks of pixels, which are too few to share out evenly.
    var singleImageColumns: Bool
    var inputGradient: InputGradient
    /// The weight gradient runs Winograd F(3x3, t x t) (t: WinogradConv.gradientTile).
    var winogradWeightGradient: Bool
    /// The batch forward and the weight gradient are both Winograd and their tiles can read the
    /// input unpadded (WinogradConv.readsUnpadded): the zero border is applied in the input
    /// transforms, and only the single-image row kernel (if used) needs a padded copy.
    var unpaddedInput: Bool
    /// The Winograd input gradient's tiles read dy itself, the zero border applied in their
    /// input transform (WinogradConv.readsUnpadded), rather than a zero-bordered copy.
    var unpaddedOutputGradient: Bool
    /// Images per call of the Winograd tiles where a caller keeps that many images in a
    /// per-thread scratch (WinogradConv.imagesPerCall): the batch inference's forward with a
    /// folded pool (its output before pooling) and the input gradient when it reads dy unpadded
    /// (its dy from the fused BatchNorm); otherwise 1. The training forward of a layer that reads
    /// its input where it is stored calls the tiles once for all of a chunk's images.
    var winogradImages: Int
    var inputGradientImages: Int
    /// Below this many multiply-adds per image, splitting one image over threads costs more
    /// (a dispatch is a few microseconds) than it saves; Winograd needs the same amount.
    static let splitMinimumMACs = 150_000
    /// Output pixels (or Winograd tiles, unless there are few: WinogradConv.singleImageBlock) per
    /// block when one image is split over the threads: the Gemm's tile height.
    static let rowsPerBlock = 6
    /// Channels of one single-image block when pixels alone make fewer than `fewPixelBlocks`
    /// blocks: a multiple of every family's tile width (KernelTarget.Lanes: 16, or 64 on AVX-512).
    static let columnBlock = 64
    static let fewPixelBlocks = 8
}

public enum Lowering {
    /// The plan for `layers` (the emitter's chain) under fusion plan `fusion`; `winograd: false`
    /// keeps every convolution direct (`modelc compile --no-winograd`).
    static func plan(_ layers: [Layer], inputShape: [Int], fusion: FusionPlan, winograd: Bool) -> LoweringPlan {
        let firstTrainable = layers.firstIndex { $0.trainableParamCount > 0 } ?? layers.count
        let flow = GraphFlow(layers)
        var folded: [Int: String] = [:]
        for g in fusion.groups {
            for p in [g.batchNorm, g.activation, g.pool, g.poolActivation].compactMap({ $0 }) + g.dropouts {
                folded[p] = layers[g.producer].name
            }
        }
        var out: [LayerLowering] = []
        var shape = inputShape
        for (i, l) in layers.enumerated() {
            let inShape = Emitter.inputShapeOf(l, fallback: shape)
            let hasDx = flow.producers[i].contains { flow.hasGradient[$0] }
            // TimeDistributed around an image layer: lowered as the image layer one step sees.
            let (one, oneIn) = l.isPerStep ? (l.stepLayer, Array(inShape.dropFirst())) : (l, inShape)
            var lay = lower(one, inShape: oneIn, fused: fusion.folds[i] != nil, pooled: fusion.folds[i]?.pool != nil,
                            hasInputGradient: hasDx, winograd: winograd)
            if l.isPerStep { lay.singleImage = "one thread (the \(inShape[0]) steps' images run in turn)" }
            if let g = fusion.folds[i] { lay.fusion = g.description }
            if let p = folded[i] { lay.fusion = "folded into \(p) at inference" }
            if i < firstTrainable { lay.weightGradient = nil }
            out.append(lay)
            shape = l.outputShape
        }
        return LoweringPlan(layers: out)
    }

    static func lower(_ l: Layer, inShape: [Int], fused: Bool, pooled: Bool = false, hasInputGradient dx: Bool, winograd: Bool) -> LayerLowering {
        let one = "one thread"
        func choice(_ k: String, _ f: String, _ r: String) -> KernelChoice { KernelChoice(kernel: k, form: f, reason: r) }
        var lay = LayerLowering(name: l.name, kind: l.kind, forward: choice("copy", "none", "no arithmetic"),
                                inputGradient: nil, weightGradient: nil, fusion: nil, singleImage: one)
        let noDx = "first layer with weights, or the first layer: no input gradient"
        switch l.op {
        case .conv2d(let a) where a.dilationH > 1 || a.dilationW > 1:
            lay.forward = choice("loops", "direct, dilated", "dilation \(a.dilationH)x\(a.dilationW): the kernel taps are not contiguous, so no Gemm")
            lay.inputGradient = dx ? choice("loops", "scatter", "dilated: each dy pixel adds into its taps") : nil
            lay.weightGradient = choice("loops", "direct", "dilated taps")
        case .conv2d(let a):
            let c = ConvLowering(a, inShape: inShape, outShape: l.outputShape, fused: fused, pooled: pooled,
                                 activation: Emitter.folded(l), hasInputGradient: dx, winograd: winograd)
            c.describe(&lay, a, inShape: inShape, outShape: l.outputShape, winograd: winograd)
            lay.conv = c
        case .dense(let units, _, _):
            let nIn = inShape.last ?? 1
            let big = DenseEmitter.splitsSingleImage(nIn: nIn, nOut: units, rowsPerImage: inShape.reduce(1, *) / max(nIn, 1),
                                                     fused: fused, activation: Emitter.folded(l))
            lay.forward = choice("Gemm", "rows x W", "one Gemm over the chunk's rows: x [rows, \(nIn)] * W [\(nIn), \(units)], SIMD over the outputs")
            lay.inputGradient = dx ? choice("Gemm", "dy x W^T", "W transposed once per backward, so the product streams rows") : nil
            lay.weightGradient = choice("Gemm", "x^T x dy", "dW row i reads column i of x: a strided A, one Gemm per chunk")
            lay.singleImage = big ? "the \(units) outputs in blocks of 64 over the threads (each thread streams its columns of W)"
                                  : "one thread (\(nIn * units) multiply-adds: a split costs more than it saves)"
        default:
            describe(&lay, l.op, hasInputGradient: dx)
        }
        if !dx && !["alias", "copy"].contains(lay.forward.kernel) { lay.inputGradient = choice("none", "none", noDx) }
        return lay
    }
    /// The choices of the layers without a Gemm plan of their own: loops, copies and aliases.
    static func describe(_ lay: inout LayerLowering, _ op: Op, hasInputGradient dx: Bool) {
        func choice(_ k: String, _ f: String, _ r: String) -> KernelChoice { KernelChoice(kernel: k, form: f, reason: r) }
        switch op {
        case .depthwiseConv2d(let a, let m):
            lay.forward = choice("loops", "direct", "\(a.kernelH)x\(a.kernelW) depthwise x\(m): one multiply per tap and channel, SIMD over channels")
            lay.inputGradient = dx ? choice("loops", "scatter", "each dy pixel adds into its window") : nil
            lay.weightGradient = choice("loops", "direct", "sum over output pixels per tap")
        case .separableConv2d(let a, _):
            lay.forward = choice("loops + Gemm", "depthwise, then pointwise", "\(a.kernelH)x\(a.kernelW) depthwise loops, then one Gemm over the chunk's pixels for the 1x1 to \(a.filters)")
            lay.inputGradient = dx ? choice("Gemm + loops", "dy x Wp^T, then depthwise scatter", "pointwise transposed once per backward") : nil
            lay.weightGradient = choice("Gemm + loops", "mid^T x dy, depthwise taps", "a strided A for the pointwise kernel")
        case .batchNorm:
            lay.forward = choice("channel loops", "moments, normalize", "training: batch mean and population variance from one read of x (blocks of rows, merged); inference: moving statistics")
            lay.inputGradient = choice("channel loops", "two passes", "sums of dy and dy * x-hat per channel, then dx")
            lay.weightGradient = choice("channel loops", "with the input gradient", "dgamma, dbeta are the same sums")
        case .maxPool(let p), .avgPool(let p):
            let pad = p.explicit.map { ", pad \([$0.top, $0.left, $0.bottom, $0.right]), windows clipped to the image" } ?? ""
            lay.forward = choice("loops", "window", "\(p.poolH)x\(p.poolW) stride \(p.strideH)x\(p.strideW)\(pad), SIMD over channels")
            lay.inputGradient = choice("loops", "scatter", "each dy pixel goes to its window (max: the first maximum)")
        case .globalAvgPool, .globalMaxPool:
            lay.forward = choice("loops", "reduce", "over all pixels, SIMD over channels")
            lay.inputGradient = choice("loops", "broadcast", "dy spread over the pixels (max: to the first maximum)")
        case .activation(let f):
            lay.forward = choice("loops", "elementwise", "\(f.name)")
            lay.inputGradient = choice("loops", "elementwise", "from the output")
        case .dropout(let r, let spatial):
            let draw = spatial ? ", one draw per image and channel" : ""
            lay.forward = choice("loops", "inverted dropout", "rate \(r)\(draw): kept values scaled by 1/(1-rate) in training, the identity at inference")
            lay.inputGradient = choice("loops", "mask", "the same mask and scale")
        case .zeroPadding:
            lay.forward = choice("copy", "into a zeroed buffer", "border rows and columns")
            lay.inputGradient = choice("copy", "crop", "the interior of dy")
        case .input:
            lay.forward = choice("copy", "none", "the input images, NHWC")
        case .merge(let k):
            lay.forward = choice("loops", "elementwise" , MergeEmitter.formula(k))
            lay.inputGradient = dx ? choice("loops", "elementwise", "each input's share of dy") : nil
        case .augment(let a):
            lay.forward = choice("RandomImageLayers", "per image", "training: each image transformed with its own draws (\(a.description)); inference: a copy")
        case .flatten, .reshape:
            lay.forward = choice("alias", "none", "same buffer, new shape (Flatten is HWC; a PyTorch model's is CHW, a permuted copy)")
        case .lambda(let f):
            lay.forward = choice("loops", "elementwise", "lambda \(f)")
            lay.inputGradient = choice("loops", "elementwise", "the lambda's derivative")
        case .upSampling(let h, let w):
            lay.forward = choice("copy", "nearest", "each pixel copied into its \(h)x\(w) block")
            lay.inputGradient = choice("loops", "block sums", "dx sums dy over each \(h)x\(w) block")
        case .resize(let h, let w):
            lay.forward = choice("loops", "bilinear", "to \(h)x\(w), half-pixel centres: each output pixel mixes its 4 nearest input pixels")
            lay.inputGradient = dx ? choice("loops", "scatter", "each dy pixel adds its 4 weights' shares into dx") : nil
        case .upSamplingBilinear(let h, let w):
            lay.forward = choice("loops", "bilinear", "\(h)x\(w), half-pixel centres: each output pixel mixes its 4 nearest input pixels")
            lay.inputGradient = choice("loops", "scatter", "each dy pixel adds its 4 weights' shares into dx")
        case .cropping:
            lay.forward = choice("copy", "window", "the interior rows and columns")
            lay.inputGradient = choice("copy", "zero border", "dy into the interior of a zeroed dx")
        case .repeatVector(let n):
            lay.forward = choice("copy", "repeat", "the vector copied \(n) times")
            lay.inputGradient = choice("loops", "sum", "dx sums dy over the \(n) copies")
        case .permute:
            lay.forward = choice("copy", "transpose", "element by element to the permuted index")
            lay.inputGradient = choice("copy", "transpose", "the inverse permutation")
        case .recurrent(let a):
            lay.forward = choice("Recurrent", "step by step", "\(a.cell.rawValue): x W for every step as one Gemm, then per step h' U (one Gemm over the chunk) and the gate math")
            lay.inputGradient = dx ? choice("Gemm", "dz W^T", "after the backward through time, one Gemm over every step") : nil
            lay.weightGradient = choice("Gemm", "x^T dz, h'^T dz", "one Gemm each over every image and step")
        case .normalization(let a):
            lay.forward = choice("loops", a.form == .fixed ? "elementwise" : "per-image statistics", a.description)
            lay.inputGradient = dx ? choice("loops", a.form == .fixed ? "elementwise" : "two sums per group", a.form == .fixed ? "dy / max(sqrt(variance), 1e-7)" : "sums of dy * gamma and dy * gamma * x-hat per group, then dx") : nil
            lay.weightGradient = a.form == .fixed ? nil : choice("loops", "with the input gradient", "dgamma, dbeta: sums of dy * x-hat and dy")
        case .masking:
            lay.forward = choice("loops", "step mask", "a step whose values all equal mask_value becomes zeros")
            lay.inputGradient = dx ? choice("loops", "step mask", "dy on the kept steps") : nil
        case .embedding:
            lay.forward = choice("copy", "row lookup", "the table's row per token id (range-checked)")
            lay.weightGradient = choice("loops", "row sums", "dy added into the row of each id")
        case .embeddingBag(let a):
            lay.forward = choice("loops", "bag \(a.mode.rawValue)", "the rows of the sample's token ids reduced, padding entries left out (range-checked)")
            lay.weightGradient = choice("loops", "row sums", a.mode == .max ? "dy into the row that gave each maximum" : "dy\(a.mode == .mean ? " / kept entries" : "") added into the row of each kept id")
        case .conv2dTranspose(let a, _, _):
            let k = "\(a.kernelH)x\(a.kernelW) stride \(a.strideH)x\(a.strideW)"
            lay.forward = choice("Gemm", "scatter", "\(k): the input gradient of a Conv2D; each input pixel adds x x Wt into its window, then the border is cropped")
            lay.inputGradient = dx ? choice("Gemm", "direct", "the Conv2D's forward over the zero-bordered dy") : nil
            lay.weightGradient = choice("Gemm", "dy windows^T x x", "the Conv2D's weight gradient with the roles of input and output swapped")
        case .multiHeadAttention(let a):
            lay.forward = choice("Attention", "projections, then per head", "\(a.heads) heads: q, k, v as one Gemm each over the chunk's steps; per head and query step SIMD dot products, softmax\(a.causal ? " over the earlier steps" : ""), weighted sum of v; the output projection as one Gemm")
            lay.inputGradient = dx ? choice("Gemm", "d(projection) W^T", "one Gemm per projection; the kernels transposed once per backward") : nil
            lay.weightGradient = choice("Gemm", "x^T d(projection)", "one Gemm per projection over the chunk's images and steps")
        case .conv2d, .dense:
            break   // Lowering.lower
        }
    }
}
