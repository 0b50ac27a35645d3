// The lowering plan as `modelc check --plan` prints it and as `--json` carries it ("plan").

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
            return "{\"kernel\": \(jsonString(c.kernel)), \"form\": \(jsonString(c.form)), \"reason\": \(jsonString(c.reason))}"
        }
        let items = layers.map { l -> String in
            let buffers = l.buffers.map {
                "{\"name\": \(jsonString($0.name)), \"floats_per_image\": \($0.perImage), \"floats_per_chunk\": \($0.perChunk), \"floats_fixed\": \($0.fixed), \"description\": \(jsonString($0.description))}"
            }
            return "{\"name\": \(jsonString(l.name)), \"kind\": \(jsonString(l.kind)), \"forward\": \(choice(l.forward)), " +
                "\"input_gradient\": \(choice(l.inputGradient)), \"weight_gradient\": \(choice(l.weightGradient)), " +
                "\"single_image\": \(jsonString(l.singleImage)), \"fusion\": \(l.fusion.map(jsonString) ?? "null"), " +
                "\"buffers\": [\(buffers.joined(separator: ", "))]}"
        }
        return "{\"batch_threads\": \(jsonString(LoweringPlan.batchThreads)), \"layers\": [\n    " + items.joined(separator: ",\n    ") + "\n  ]}"
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

/// A JSON string literal.
func jsonString(_ s: String) -> String {
    var o = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": o += "\\\""
        case "\\": o += "\\\\"
        case "\n": o += "\\n"
        default:
            if u.value < 0x20 {
                let hex = String(u.value, radix: 16)
                o += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                o.unicodeScalars.append(u)
            }
        }
    }
    return o + "\""
}
