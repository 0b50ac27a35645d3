// CutInputCell: the input shape of an InputLayer row whose Output Shape cell Keras 2.2-2.5 cut
// at the column edge ("[(None, 12, 128, 256" for (None, 12, 128, 256)): the printed dimensions
// are complete but for the last, which may have lost digits, and more may follow.
//
// Before: the cell as printed (a RawShape.unknown).
// After:  input shapes to try first, each one only a candidate: the inference search keeps the
//         first for which every row's shape and count verify.

enum CutInputCell {
    /// The dimensions printed after "[(None," (the last possibly cut short); nil if the cell has
    /// another form.
    static func printedDims(_ cell: String) -> [Int]? {
        guard cell.hasPrefix("[("), !cell.contains(")"), !cell.contains("]") else { return nil }
        let parts = cell.dropFirst(2).split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmed }
        guard parts.count >= 2, parts[0] == "None" || parts[0] == "?" else { return nil }
        var dims: [Int] = []
        for p in parts.dropFirst() {
            guard let v = Int(p), v >= 1 else { return nil }
            dims.append(v)
        }
        return dims
    }

    /// The printed dimensions as they stand, then the orders of the next layer's output (a
    /// Permute's, a Reshape's) that begin with them, the last printed one read as a prefix.
    static func candidates(_ cell: String, next: [Int]?) -> [[Int]] {
        guard let p = printedDims(cell), let lastDigits = p.last.map(String.init) else { return [] }
        var out = [p]
        if let k = next, k.count >= p.count, k.count <= 4 {
            for perm in permutations(k) where !out.contains(perm) {
                if Array(perm.prefix(p.count - 1)) == Array(p.dropLast()), String(perm[p.count - 1]).hasPrefix(lastDigits) {
                    out.append(perm)
                }
            }
        }
        return out
    }

    static func permutations(_ a: [Int]) -> [[Int]] {
        guard a.count > 1 else { return [a] }
        var out: [[Int]] = []
        for i in a.indices {
            var rest = a
            let x = rest.remove(at: i)
            out += permutations(rest).map { [x] + $0 }
        }
        return out
    }
}
