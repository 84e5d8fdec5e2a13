// Writes the committed seed corpora (scripts/fuzz.sh --seeds):
//   fuzz/corpus/model  small valid .lsrec files of every fusion, f32 and f16, with and without
//                      text features, the fixture, and truncated copies;
//   fuzz/corpus/state  state blobs of the fixture model (empty, few, full ring, wrapped ring,
//                      unknown and repeated times, events on added items: version 2), and
//                      truncated copies.
// Deterministic: the same bytes on every run.
//
//   FuzzSeeds <repository root>
import LSRecCore
import LSRecFormat
#if canImport(Glibc)
import Glibc
#endif

let root = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "."

func write(_ bytes: [UInt8], _ path: String) throws {
    try FileIO.writeAtomically(bytes, to: path)
    print("\(path) (\(bytes.count) bytes)")
}

/// SplitMix64, as in the tests' TestModel.
struct Rng {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform(_ scale: Float) -> Float { (Float(next() >> 40) / Float(1 << 24) * 2 - 1) * scale }
}

func smallModel(n: Int, d: Int, history: Int, textDim: Int, timeDim: Int, buckets: Int, fusion: String,
                dtype: DType, seed: UInt64) throws -> [UInt8] {
    var rng = Rng(state: seed)
    func tensor(_ count: Int, _ scale: Float) -> [Float] { (0..<count).map { _ in rng.uniform(scale) } }
    let t = timeDim
    var b = WeightFileBuilder()
    b.setMeta("general.architecture", .string("lsrec-v1"))
    b.setMeta("lsrec.dim", .int(Int64(d)))
    b.setMeta("lsrec.history", .int(Int64(history)))
    b.setMeta("lsrec.n_items", .int(Int64(n)))
    b.setMeta("lsrec.text_dim", .int(Int64(textDim)))
    b.setMeta("lsrec.time_dim", .int(Int64(t)))
    b.setMeta("lsrec.time_buckets", .int(Int64(buckets)))
    b.setMeta("lsrec.fusion", .string(fusion))
    b.setMeta("train.lr", .float(0.001))
    b.addTensor("item.ids", shape: [n], int64s: (0..<n).map { Int64(10 + 3 * $0) })
    b.addTensor("item.embedding", shape: [n, d], floats: tensor(n * d, 0.5), as: dtype)
    b.addTensor("item.bias", shape: [n], floats: tensor(n, 0.3), as: dtype)
    if textDim > 0 {
        b.addTensor("item.text", shape: [n, textDim], floats: tensor(n * textDim, 1), as: dtype)
        b.addTensor("item.text_proj", shape: [d, textDim], floats: tensor(d * textDim, 0.2), as: dtype)
    }
    b.addTensor("time.event_gap", shape: [buckets, t], floats: tensor(buckets * t, 0.5), as: dtype)
    b.addTensor("time.request_gap", shape: [buckets, t], floats: tensor(buckets * t, 0.5), as: dtype)
    b.addTensor("lstm.w_x", shape: [4 * d, d + t], floats: tensor(4 * d * (d + t), 0.4), as: dtype)
    b.addTensor("lstm.w_h", shape: [4 * d, d], floats: tensor(4 * d * d, 0.4), as: dtype)
    b.addTensor("lstm.bias", shape: [4 * d], floats: tensor(4 * d, 0.2), as: dtype)
    for name in ["attn.w_q", "attn.w_k", "attn.w_v"] {
        b.addTensor(name, shape: [d, d], floats: tensor(d * d, 0.5), as: dtype)
    }
    b.addTensor("gate.w", shape: [d, 2 * d + t], floats: tensor(d * (2 * d + t), 0.4), as: dtype)
    b.addTensor("gate.bias", shape: [d], floats: tensor(d, 0.2), as: dtype)
    b.addTensor("out.w_h", shape: [d, d], floats: tensor(d * d, 0.5), as: dtype)
    let bytes = try b.build()
    _ = try Model(bytes: bytes)  // seeds must be valid
    return bytes
}

do {
    let modelDir = root + "/fuzz/corpus/model", stateDir = root + "/fuzz/corpus/state"
    for dir in [root + "/fuzz/corpus", modelDir, stateDir] { mkdir(dir, 0o755) }

    // ---- model seeds ----
    let gate = try smallModel(n: 5, d: 2, history: 3, textDim: 0, timeDim: 1, buckets: 3, fusion: "gate", dtype: .f32, seed: 1)
    try write(gate, modelDir + "/gate-n5-d2.lsrec")
    try write(try smallModel(n: 7, d: 3, history: 4, textDim: 2, timeDim: 2, buckets: 4, fusion: "short",
                             dtype: .f16, seed: 2), modelDir + "/short-text-f16.lsrec")
    try write(try smallModel(n: 4, d: 2, history: 2, textDim: 0, timeDim: 1, buckets: 5, fusion: "long",
                             dtype: .f32, seed: 3), modelDir + "/long-n4.lsrec")
    try write(Array(gate[0 ..< 64]), modelDir + "/truncated-header-only")
    try write(Array(gate[0 ..< gate.count / 2]), modelDir + "/truncated-half")
    try write(Array(gate[0 ..< gate.count - 1]), modelDir + "/truncated-minus-1")
    let fixture = try FileIO.readAll(path: root + "/Tests/Fixtures/tiny-random.lsrec")
    try write(fixture, modelDir + "/tiny-random.lsrec")

    // ---- state seeds (fixture model) ----
    let model = try Model(bytes: fixture)
    func id(_ i: Int) -> Int64 { Int64(1000 + 7 * i) }
    func state(_ events: [(Int, Int64)]) throws -> [UInt8] {
        var s = model.newState()
        for (i, t) in events { try model.update(&s, itemID: id(i), timestamp: t) }
        return try model.serialize(s)
    }
    let t0: Int64 = 1_700_000_000
    try write(try state([]), stateDir + "/empty")
    try write(try state([(3, t0)]), stateDir + "/one-event")
    try write(try state([(1, -1), (2, -1), (1, -1)]), stateDir + "/unknown-times")
    try write(try state([(5, t0), (6, t0), (7, -1), (8, t0 + 1), (9, t0 + 86_400 * 400)]), stateDir + "/mixed")
    let ring: [(Int, Int64)] = (0..<20).map { (e: Int) -> (Int, Int64) in (e * 13 % 300, t0 + Int64(e) * 3600) }
    try write(try state(ring), stateDir + "/full-ring")
    var events: [(Int, Int64)] = []
    for e in 0..<45 {
        let time: Int64 = e % 4 == 0 ? -1 : t0 + Int64(e) * 997
        events.append((e * 29 % 300, time))
    }
    let wrapped = try state(events)
    try write(wrapped, stateDir + "/wrapped-ring")
    try write(try state([(299, Int64.max)]), stateDir + "/max-time")
    // Version 2: events on items added to a catalogue (the blob carries their ids and vectors).
    var cat = Catalog(model: model)
    try cat.add(id: 5_000_000, text: (0..<8).map { Float($0) * 0.25 - 1 })
    var withAdded = model.newState()
    let mixed: [(Int64, Int64)] = [(id(4), t0), (5_000_000, t0 + 60), (id(9), -1), (5_000_000, t0 + 120)]
    for (item, t) in mixed {
        try cat.update(&withAdded, itemID: item, timestamp: t)
    }
    try write(try model.serialize(withAdded), stateDir + "/added-items-v2")
    try write(Array(wrapped[0 ..< 60]), stateDir + "/truncated-header")
    try write(Array(wrapped[0 ..< wrapped.count - 4]), stateDir + "/truncated-no-crc")
} catch {
    fputs("FuzzSeeds: \(error)\n", stderr)
    exit(1)
}
