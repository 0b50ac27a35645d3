// PyTorchModules1D: the repr arguments of the 1-D and decoder modules (Conv1d, MaxPool1d,
// AvgPool1d, ConvTranspose2d, Upsample / UpsamplingNearest2d, ZeroPad1d, ConstantPad1d/2d)
// read into PTOp; what modelc cannot compute exactly (groups, dilated transposed convolutions,
// padding modes, padded or ceil-mode pools, interpolation other than nearest and bilinear,
// fractional scales, a constant pad other than 0) is an error.

import Foundation

extension PyTorchModules {
    /// A one-element size: N, (N,) or [N]; a pair of two different sizes is an error.
    static func single(_ r: PTModuleArgs, _ keys: [String], _ pos: Int?, _ def: Int?) throws -> Int {
        let v = try r.pair(keys, pos, def.map { ($0, $0) })
        guard v.0 == v.1 else { throw r.err("\(keys[0])=(\(v.0), \(v.1)): a 1-D module takes one size") }
        return v.0
    }

    /// groups (argument 7 of Conv1d and ConvTranspose2d) must be 1, padding_mode (Conv1d's 9th,
    /// ConvTranspose2d's 10th) zeros.
    static func checkGroupsAndPaddingMode(_ r: PTModuleArgs, paddingModePosition: Int) throws {
        if try r.int("groups", 6, 1) != 1 { throw r.err("groups=\(r.a.keyword["groups"] ?? r.a.positional[6]): grouped convolutions are not supported") }
        try checkPaddingMode(r, position: paddingModePosition)
    }

    /// padding_mode (keyword, or argument `position`) must be zeros.
    static func checkPaddingMode(_ r: PTModuleArgs, position: Int) throws {
        let pm = r.a.keyword["padding_mode"] ?? (r.a.positional.count > position ? r.a.positional[position] : nil)
        if let pm, !pm.contains("zeros") { throw r.err("padding_mode=\(pm): only zero padding is supported") }
    }

    /// Conv1d(in, out, kernel_size=(k,), stride=(s,), padding=(p,) or 'same'/'valid', dilation=(d,)).
    static func conv1d(_ r: PTModuleArgs) throws -> PTOp {
        let cin = try r.int("in_channels", 0), cout = try r.int("out_channels", 1)
        let k = try single(r, ["kernel_size"], 2, nil), s = try single(r, ["stride"], 3, 1)
        var same = false, p = 0
        if let v = r.a.keyword["padding"], v.contains("same") || v.contains("valid") {
            same = v.contains("same")
        } else {
            p = try single(r, ["padding"], 4, 0)
        }
        let d = try single(r, ["dilation"], 5, 1)
        try checkGroupsAndPaddingMode(r, paddingModePosition: 8)
        guard cin > 0, cout > 0, k > 0, s > 0, p >= 0, d > 0, cin <= 65536, cout <= 65536, k <= 64, s <= 1024, p <= 1024, d <= 64 else {
            throw r.err("implausible sizes in '\(r.module.args)'")
        }
        if same && s != 1 { throw r.err("padding='same' with stride \(s): PyTorch refuses padding='same' for strided convolutions") }
        return .conv1d(cin: cin, cout: cout, k: k, s: s, p: p, same: same, d: d, bias: try r.bool("bias", true, position: 7))
    }

    /// MaxPool1d / AvgPool1d: padding, ceil_mode and count_include_pad as PyTorch's; no dilation.
    static func pool1d(_ r: PTModuleArgs) throws -> PTOp {
        let k = try single(r, ["kernel_size"], 0, nil), s = try single(r, ["stride"], 1, k), p = try single(r, ["padding"], 2, 0)
        if r.module.type == "MaxPool1d", try single(r, ["dilation"], 3, 1) != 1 {
            throw r.err("dilation=\(r.a.keyword["dilation"] ?? r.a.positional[3]): dilated pooling is not supported")
        }
        guard k > 0, s > 0, p >= 0, k <= 1024, s <= 1024 else { throw r.err("implausible sizes in '\(r.module.args)'") }
        let pad = try poolPadding(r, h: (1, 0), w: (k, p), ceilPosition: r.module.type == "MaxPool1d" ? 5 : 3)
        return .pool1d(max: r.module.type == "MaxPool1d", k: k, s: s, pad: pad)
    }

    /// ConvTranspose2d(in, out, kernel_size, stride, padding, output_padding, groups, bias, dilation).
    static func convTranspose(_ r: PTModuleArgs) throws -> PTOp {
        let cin = try r.int("in_channels", 0), cout = try r.int("out_channels", 1)
        let k = try r.pair(["kernel_size"], 2, nil), s = try r.pair(["stride"], 3, (1, 1))
        let p = try r.pair(["padding"], 4, (0, 0)), op = try r.pair(["output_padding"], 5, (0, 0))
        let d = try r.pair(["dilation"], 8, (1, 1))
        try checkGroupsAndPaddingMode(r, paddingModePosition: 9)
        guard d == (1, 1) else { throw r.err("dilation=(\(d.0), \(d.1)): dilated transposed convolutions are not supported") }
        guard cin > 0, cout > 0, k.0 > 0, k.1 > 0, s.0 > 0, s.1 > 0, p.0 >= 0, p.1 >= 0, cin <= 65536, cout <= 65536,
              k.0 <= 64, k.1 <= 64, s.0 <= 1024, s.1 <= 1024, p.0 <= 1024, p.1 <= 1024 else {
            throw r.err("implausible sizes in '\(r.module.args)'")
        }
        guard op.0 >= 0, op.1 >= 0, op.0 < s.0, op.1 < s.1 else {
            throw r.err("output_padding=(\(op.0), \(op.1)): must be smaller than the stride (\(s.0), \(s.1))")
        }
        return .convTranspose(cin: cin, cout: cout, kh: k.0, kw: k.1, sh: s.0, sw: s.1, ph: p.0, pw: p.1, oph: op.0, opw: op.1,
                              bias: try r.bool("bias", true, position: 7))
    }

    /// Upsample(scale_factor=2.0, mode='nearest' or 'bilinear') or Upsample(size=(H, W)); UpsamplingNearest2d.
    static func upsample(_ r: PTModuleArgs) throws -> PTOp {
        let mode = (r.a.keyword["mode"] ?? "nearest").replacingOccurrences(of: "'", with: "").replacingOccurrences(of: "\"", with: "")
        guard mode == "nearest" || mode == "bilinear" else { throw r.err("mode=\(mode): only nearest and bilinear upsampling are supported") }
        if let a = r.a.keyword["align_corners"], a == "True" { throw r.err("align_corners=True is not supported (bilinear with align_corners=False only)") }
        let bilinear = mode == "bilinear"
        if let v = r.a.keyword["size"], v != "None" {
            guard let sz = PTArgs.pair(v), sz.0 > 0, sz.1 > 0, sz.0 <= 4096, sz.1 <= 4096 else { throw r.err("size=\(v): expected N or (H, W)") }
            return bilinear ? .upsampleBilinear(h: sz.0, w: sz.1, toSize: true) : .upsample(h: sz.0, w: sz.1, toSize: true)
        }
        guard let v = r.a.keyword["scale_factor"] ?? r.a.positional.dropFirst().first else { throw r.err("missing scale_factor or size") }
        let parts = v.trimmingCharacters(in: CharacterSet(charactersIn: "()[] ")).split(separator: ",").map { Double($0.trimmed) }
        guard (1...2).contains(parts.count), parts.allSatisfy({ $0 != nil && $0! >= 1 && $0! <= 64 && $0! == $0!.rounded() }) else {
            throw r.err("scale_factor=\(v): only whole factors from 1 to 64 are supported")
        }
        let f = parts.compactMap { $0 }.map { Int($0) }
        let (h, w) = (f[0], f.count == 2 ? f[1] : f[0])
        return bilinear ? .upsampleBilinear(h: h, w: w, toSize: false) : .upsample(h: h, w: w, toSize: false)
    }

    /// ZeroPad1d((left, right)) / ConstantPad1d(padding=(left, right), value=0.0) and
    /// ConstantPad2d(padding=(left, right, top, bottom), value=0.0): zero padding only.
    static func constantPad(_ r: PTModuleArgs) throws -> PTOp {
        let m = r.module
        var text = m.args
        if let v = r.a.keyword["value"] {
            guard let x = Double(v), x == 0 else { throw r.err("value=\(v): only zero padding is supported") }
            text = text.components(separatedBy: "value=").first ?? text
        }
        if text.contains("-") { throw r.err("negative padding in '\(m.args)' (a crop) is not supported") }
        let nums = text.components(separatedBy: "padding=").last.map { $0.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) } } ?? []
        guard nums.allSatisfy({ $0 <= 4096 }) else { throw r.err("implausible padding in '\(m.args)'") }
        if m.type == "ConstantPad2d" {
            if nums.count == 1 { return .zeroPad(left: nums[0], right: nums[0], top: nums[0], bottom: nums[0]) }
            guard nums.count == 4 else { throw r.err("expected padding=(left, right, top, bottom)") }
            return .zeroPad(left: nums[0], right: nums[1], top: nums[2], bottom: nums[3])
        }
        if nums.count == 1 { return .zeroPad1d(left: nums[0], right: nums[0]) }
        guard nums.count == 2 else { throw r.err("expected padding=(left, right)") }
        return .zeroPad1d(left: nums[0], right: nums[1])
    }
}
