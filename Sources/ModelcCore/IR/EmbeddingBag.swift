// Embedding padding rows and EmbeddingBag (PyTorch) in the IR.
//
// Embedding(vocab, dim, paddingIdx: P) (PyTorch `padding_idx`): the lookup is unchanged (the
// output at id P is row P, which is zero unless loaded weights say otherwise), row P starts at
// zero (`ParamTensor.zeroRow`), and its gradient is always zero, so it never trains.
//
// EmbeddingBag(vocab, dim, mode, paddingIdx): token ids [T] -> one vector [dim], the bag of the
// sample's T ids reduced by `mode` (PyTorch's 2-D input form, one bag per row; modelc's inputs
// have a fixed T). Entries whose id is the padding index are left out of the bag:
//   sum   y = sum of table[id] over the kept entries
//   mean  y = that sum / (number of kept entries)
//   max   y[j] = max of table[id][j] over the kept entries (the first one on ties gets the gradient)
// A bag with no kept entries gives zeros in every mode (as PyTorch). Parameters: `embeddings`
// [vocab, dim] (count vocab * dim), state_dict key `<module>.weight`.

public enum EmbeddingBagMode: String, Codable, Sendable, CaseIterable {
    case sum, mean, max
}

public struct EmbeddingBagAttrs: Equatable, Codable, Sendable {
    public var vocab: Int
    public var dim: Int
    public var mode: EmbeddingBagMode
    /// The id left out of every bag (already in 0..<vocab), or nil.
    public var paddingIdx: Int?

    public init(vocab: Int, dim: Int, mode: EmbeddingBagMode, paddingIdx: Int? = nil) {
        self.vocab = vocab; self.dim = dim; self.mode = mode; self.paddingIdx = paddingIdx
    }

    public var description: String {
        "vocabulary \(vocab), dim \(dim), mode \(mode.rawValue)" + (paddingIdx.map { ", padding_idx \($0)" } ?? "")
    }
}

extension Op {
    /// An Embedding's or EmbeddingBag's table size and padding row, else nil.
    public var embeddingTable: (vocab: Int, dim: Int, paddingIdx: Int?)? {
        switch self {
        case .embedding(let v, let d, let p): return (v, d, p)
        case .embeddingBag(let a): return (a.vocab, a.dim, a.paddingIdx)
        default: return nil
        }
    }
}

extension ParamTensor {
    /// An Embedding's or EmbeddingBag's table [vocab, dim]; its padding row starts at zero.
    static func embeddings(vocab: Int, dim: Int, paddingIdx: Int?) -> ParamTensor {
        var t = ParamTensor(role: .embeddings, shape: [vocab, dim], trainable: true)
        t.zeroRow = paddingIdx
        return t
    }
}
