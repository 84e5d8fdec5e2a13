import LSRecFormat

/// Writer name stored in `general.created_by`.
public let trainerVersion = "lsrec-train 0.1.0"

/// The `.lsrec` bytes of a trained network (docs/FORMAT.md): every lsrec-v1 tensor as f32,
/// `item.ids`, the architecture keys, `general.created_by` and the given `train.*` keys.
/// Deterministic: same parameters and metadata, same bytes.
/// `item.new_bias` is written only when `newItemBiasTrained` (else a loaded model uses the median);
/// `score.repeat_bias` only when the shape has it.
public func weightFileBytes(_ params: NetworkParameters<Float>, itemIDs: [Int64],
                            trainMetadata: [(String, MetaValue)], newItemBiasTrained: Bool = false) throws -> [UInt8] {
    let s = params.shape
    precondition(itemIDs.count == s.nItems, "one id per item")
    var b = WeightFileBuilder()
    b.setMeta("general.architecture", .string("lsrec-v1"))
    b.setMeta("general.created_by", .string(trainerVersion))
    b.setMeta("lsrec.dim", .int(Int64(s.dim)))
    b.setMeta("lsrec.history", .int(Int64(s.history)))
    b.setMeta("lsrec.n_items", .int(Int64(s.nItems)))
    b.setMeta("lsrec.text_dim", .int(Int64(s.textDim)))
    b.setMeta("lsrec.time_dim", .int(Int64(s.timeDim)))
    b.setMeta("lsrec.time_buckets", .int(Int64(s.timeBuckets)))
    b.setMeta("lsrec.fusion", .string(s.fusion.rawValue))
    for (k, v) in trainMetadata {
        precondition(k.hasPrefix("train."), "trainer metadata keys are train.*")
        b.setMeta(k, v)
    }
    b.addTensor("item.ids", shape: [s.nItems], int64s: itemIDs)
    for id in ParamID.allCases {
        if id == .textProj && s.textDim == 0 { continue }
        if id == .newItemBias && !newItemBiasTrained { continue }
        if id == .repeatBias && !s.repeatBias { continue }
        b.addTensor(id.name, shape: id.shape(s), floats: params[id])
        if id == .itemBias && s.textDim > 0 {
            b.addTensor("item.text", shape: [s.nItems, s.textDim], floats: params.text)
        }
    }
    return try b.build()
}
