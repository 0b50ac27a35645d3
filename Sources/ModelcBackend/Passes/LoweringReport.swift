// The lowering plan as `modelc check --plan` prints it and as `--json` carries it ("plan").

import ModelcCore

extension LoweringPlan {
    /// One block per layer: its kernels, forms and reasons, the one-image split, fusion, buffers.
    public var text: String {
        var s = "Plan (\(LoweringPlan.batchThreads)):\n"
        for l in layers {
            s += "  \(l.name) (\(l.kind))\n"
            s += row("forward", l.forward)
            if let c = l.inputGradient { s += row("input gradient", c) }
            if let c = l.weightGradient { s += row("weight gradient", c) }
            s += "    " + pad("one image") + l.singleImage + "\n"
            if let f = l.fusion { s += "    " + pad("fused") + f + "\n" }
            for (i, b) in l.buffers.enumerated() {
                s += "    " + pad(i == 0 ? "buffers" : "") + "\(b.name): \(b.sizeText), \(b.description)\n"
            }
        }
        return s
    }

    private func pad(_ s: String) -> String { s + String(repeating: " ", count: max(1, 17 - s.count)) }
    private func row(_ what: String, _ c: KernelChoice) -> String { "    " + pad(what) + "\(c.kernel), \(c.form): \(c.reason)\n" }

    /// `{"batch_threads": "...", "layers": [{"name", "kind", "forward": {"kernel", "form",
    /// "reason"}, "input_gradient", "weight_gradient" (null when absent), "single_image",
    /// "fusion" (null when none), "buffers": [{"name", "floats_per_image", "floats_per_chunk",
    /// "floats_fixed", "description"}]}]}`
    public var json: String {
        func choice(_ c: KernelChoice?) -> String {
            guard let c = c else { return "null" }
            return "{\"kernel\": \(JSON.string(c.kernel)), \"form\": \(JSON.string(c.form)), \"reason\": \(JSON.string(c.reason))}"
        }
        let items = layers.map { l -> String in
            let buffers = l.buffers.map {
                "{\"name\": \(JSON.string($0.name)), \"floats_per_image\": \($0.perImage), \"floats_per_chunk\": \($0.perChunk), \"floats_fixed\": \($0.fixed), \"description\": \(JSON.string($0.description))}"
            }
            return "{\"name\": \(JSON.string(l.name)), \"kind\": \(JSON.string(l.kind)), \"forward\": \(choice(l.forward)), " +
                "\"input_gradient\": \(choice(l.inputGradient)), \"weight_gradient\": \(choice(l.weightGradient)), " +
                "\"single_image\": \(JSON.string(l.singleImage)), \"fusion\": \(l.fusion.map(JSON.string) ?? "null"), " +
                "\"buffers\": [\(buffers.joined(separator: ", "))]}"
        }
        return "{\"batch_threads\": \(JSON.string(LoweringPlan.batchThreads)), \"layers\": [\n    " + items.joined(separator: ",\n    ") + "\n  ]}"
    }
}

extension PlannedBuffer {
    var sizeText: String {
        var parts: [String] = []
        if perImage > 0 { parts.append("\(perImage) floats per image") }
        if perChunk > 0 { parts.append("\(perChunk) per thread") }
        if fixed > 0 { parts.append("\(fixed) fixed") }
        return parts.isEmpty ? "empty" : parts.joined(separator: " + ")
    }
}
