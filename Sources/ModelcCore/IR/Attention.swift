// Keras MultiHeadAttention: its attributes, weight tensors, output shape and the verification
// of its inputs. The layer reads two or three earlier outputs, in Keras's call order: the
// query [Tq, Dq], the value [Tv, Dv] and the key [Tv, Dk] (the value when not given; a
// self-attention call passes one tensor twice). Its own `inputShape` is the query's, so the
// attributes carry the value's and key's feature counts, which the weights need.
//   q = query Wq + bq [Tq, H, K]; k = key Wk + bk [Tv, H, K]; v = value Wv + bv [Tv, H, V]
//   p = softmax over the source steps of q . k / sqrt(K) per head (causal: steps j <= i only),
//   dropout on p in training; o = p v [Tq, H, V]; y = o Wo + bo [Tq, O] (O = Dq unless set)
// Weights (Keras names and layouts): query/kernel [Dq, H, K], query/bias [H, K], key/kernel
// [Dk, H, K], key/bias, value/kernel [Dv, H, V], value/bias [H, V], attention_output/kernel
// [H, V, O], attention_output/bias [O]; no biases with use_bias=False.
// The runtime's kernels: Sources/ModelcRuntime/Kernels/Attention.swift.

public struct AttentionAttrs: Equatable, Codable, Sendable {
    public var heads: Int
    public var keyDim: Int
    public var valueDim: Int
    public var useBias: Bool
    /// Features of the output (Keras output_shape; the query's features by default).
    public var outputDim: Int
    /// Features of the key and value inputs.
    public var keyFeatures: Int
    public var valueFeatures: Int
    /// Dropout on the attention probabilities in training.
    public var dropout: Float
    /// use_causal_mask=True in the call: query step i attends to source steps j <= i.
    public var causal: Bool

    public init(heads: Int, keyDim: Int, valueDim: Int, useBias: Bool = true, outputDim: Int, keyFeatures: Int,
                valueFeatures: Int, dropout: Float = 0, causal: Bool = false) {
        self.heads = heads; self.keyDim = keyDim; self.valueDim = valueDim; self.useBias = useBias
        self.outputDim = outputDim; self.keyFeatures = keyFeatures; self.valueFeatures = valueFeatures
        self.dropout = dropout; self.causal = causal
    }

    /// The length of a row of the attention probabilities over `sources` steps: the runtime pads
    /// it to whole 16-float vectors (AttentionGeometry.paddedSources in Kernels/Attention.swift).
    public static func paddedSources(_ sources: Int) -> Int { (sources + 15) / 16 * 16 }

    /// The weight tensors for a query of `dq` features, in Keras order.
    public func tensors(queryFeatures dq: Int) -> [ParamTensor] {
        let parts: [(String, [Int], [Int])] = [
            ("query", [dq, heads, keyDim], [heads, keyDim]),
            ("key", [keyFeatures, heads, keyDim], [heads, keyDim]),
            ("value", [valueFeatures, heads, valueDim], [heads, valueDim]),
            ("attention_output", [heads, valueDim, outputDim], [outputDim]),
        ]
        return parts.flatMap { scope, kernel, bias -> [ParamTensor] in
            var k = ParamTensor(role: .kernel, shape: kernel, trainable: true)
            k.scope = scope
            guard useBias else { return [k] }
            var b = ParamTensor(role: .bias, shape: bias, trainable: true)
            b.scope = scope
            return [k, b]
        }
    }

    /// The count of a layer with these sizes and a query of `dq` features.
    public func paramCount(queryFeatures dq: Int) -> Int { tensors(queryFeatures: dq).reduce(0) { $0 + $1.count } }

    public var description: String {
        var s = "\(heads) head\(heads == 1 ? "" : "s"), key_dim \(keyDim)"
        if valueDim != keyDim { s += ", value_dim \(valueDim)" }
        s += ", \(outputDim) outputs"
        s += useBias ? "" : ", no bias"
        if dropout > 0 { s += ", dropout \(dropout)" }
        return s + (causal ? ", causal" : "")
    }

    /// Why the attributes cannot apply to a query of shape `query`, or nil.
    public func problem(query: [Int]) -> String? {
        guard query.count == 2 else {
            return "attends over a sequence [steps, features]; its query is \(Inference.shapeText(query)) (attention over several axes, attention_axes, is not supported)"
        }
        guard heads >= 1, keyDim >= 1, valueDim >= 1, outputDim >= 1, keyFeatures >= 1, valueFeatures >= 1 else {
            return "num_heads, key_dim, value_dim and the features must be >= 1"
        }
        guard dropout >= 0, dropout < 1 else { return "dropout \(dropout) must be in [0, 1)" }
        return nil
    }

    /// Why the inputs (query, value[, key]) do not fit these attributes, or nil.
    public func problem(inputs given: [[Int]]) -> String? {
        // A sequence lifted to [1, T, D] (the 1-D layers' form) is the sequence [T, D].
        let shapes = given.map { $0.count == 3 && $0[0] == 1 ? Array($0.dropFirst()) : $0 }
        guard shapes.count == 2 || shapes.count == 3 else {
            return "takes a query and a value (and a key), has \(shapes.count) input\(shapes.count == 1 ? "" : "s")"
        }
        if let p = problem(query: shapes[0]) { return p }
        let value = shapes[1], key = shapes.count == 3 ? shapes[2] : shapes[1]
        guard value.count == 2, key.count == 2 else { return "its value and key must be sequences [steps, features]" }
        guard value[0] == key[0] else { return "its value has \(value[0]) steps and its key \(key[0])" }
        guard value[1] == valueFeatures, key[1] == keyFeatures else {
            return "its value has \(value[1]) features and its key \(key[1]), its weights expect \(valueFeatures) and \(keyFeatures)"
        }
        return nil
    }

    /// The output for a query of shape [Tq, Dq].
    public func outputShape(query: [Int]) -> [Int] { Array(query.dropLast()) + [outputDim] }
}

extension LayerKind {
    /// The layers one call of which reads several outputs: the merges and MultiHeadAttention.
    var takesSeveralInputs: Bool { isMerge || self == .multiHeadAttention }
}
