import LSRecFormat

/// Deterministic small random lsrec-v1 models for tests and the committed fixture.
enum TestModel {
    struct Shape {
        var nItems = 300, dim = 16, history = 20, textDim = 8, timeDim = 4, buckets = 32
        var fusion = "gate"
    }

    /// SplitMix64: a fixed, portable generator, so the fixture bytes never depend on the platform.
    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        /// Uniform in [-scale, scale).
        mutating func uniform(_ scale: Float) -> Float {
            (Float(next() >> 40) / Float(1 << 24) * 2 - 1) * scale
        }
    }

    /// External id of dense item i: sparse and not sorted by index, like real catalogues.
    static func itemID(_ i: Int) -> Int64 { Int64(1000 + 7 * i) }

    /// `embedding` / `bias` replace the random item matrix [nItems, dim] / item bias [nItems].
    /// `repeatBias`: the file carries the repeat term β (`score.repeat_bias`).
    static func bytes(_ s: Shape = Shape(), seed: UInt64 = 42, embedding: [Float]? = nil,
                      bias: [Float]? = nil, repeatBias: Float? = nil) throws -> [UInt8] {
        var rng = Rng(state: seed)
        func tensor(_ count: Int, _ scale: Float) -> [Float] { (0..<count).map { _ in rng.uniform(scale) } }
        let d = s.dim, t = s.timeDim, n = s.nItems
        var b = WeightFileBuilder()
        b.setMeta("general.architecture", .string("lsrec-v1"))
        b.setMeta("general.created_by", .string("lsrec tests (random weights)"))
        b.setMeta("lsrec.dim", .int(Int64(d)))
        b.setMeta("lsrec.history", .int(Int64(s.history)))
        b.setMeta("lsrec.n_items", .int(Int64(n)))
        b.setMeta("lsrec.text_dim", .int(Int64(s.textDim)))
        b.setMeta("lsrec.time_dim", .int(Int64(t)))
        b.setMeta("lsrec.time_buckets", .int(Int64(s.buckets)))
        b.setMeta("lsrec.fusion", .string(s.fusion))
        b.setMeta("train.data", .string("none: deterministic random weights, seed \(seed)"))
        b.addTensor("item.ids", shape: [n], int64s: (0..<n).map(itemID))
        let e = tensor(n * d, 0.5), ib = tensor(n, 0.3)
        b.addTensor("item.embedding", shape: [n, d], floats: embedding ?? e)
        b.addTensor("item.bias", shape: [n], floats: bias ?? ib)
        if s.textDim > 0 {
            b.addTensor("item.text", shape: [n, s.textDim], floats: tensor(n * s.textDim, 1))
            b.addTensor("item.text_proj", shape: [d, s.textDim], floats: tensor(d * s.textDim, 0.2))
        }
        b.addTensor("time.event_gap", shape: [s.buckets, t], floats: tensor(s.buckets * t, 0.5))
        b.addTensor("time.request_gap", shape: [s.buckets, t], floats: tensor(s.buckets * t, 0.5))
        b.addTensor("lstm.w_x", shape: [4 * d, d + t], floats: tensor(4 * d * (d + t), 0.4))
        b.addTensor("lstm.w_h", shape: [4 * d, d], floats: tensor(4 * d * d, 0.4))
        b.addTensor("lstm.bias", shape: [4 * d], floats: tensor(4 * d, 0.2))
        for name in ["attn.w_q", "attn.w_k", "attn.w_v"] {
            b.addTensor(name, shape: [d, d], floats: tensor(d * d, 0.5))
        }
        b.addTensor("gate.w", shape: [d, 2 * d + t], floats: tensor(d * (2 * d + t), 0.4))
        b.addTensor("gate.bias", shape: [d], floats: tensor(d, 0.2))
        b.addTensor("out.w_h", shape: [d, d], floats: tensor(d * d, 0.5))
        if let repeatBias { b.addTensor("score.repeat_bias", shape: [1], floats: [repeatBias]) }
        return try b.build()
    }

    /// A deterministic event stream for item ids of the test model: some repeats, some unknown
    /// times, gaps from 0 s to months.
    static func events(count: Int, nItems: Int = 300, seed: UInt64 = 7) -> [(id: Int64, time: Int64)] {
        var rng = Rng(state: seed)
        var time: Int64 = 1_000_000_000
        return (0..<count).map { _ in
            let item = Int(rng.next() % UInt64(nItems))
            let r = rng.next() % 10
            if r == 0 { return (itemID(item), -1) }
            time += Int64(rng.next() % (r < 5 ? 600 : 10_000_000)) * (r == 1 ? 0 : 1)
            return (itemID(item), time)
        }
    }
}
