import Foundation
import LSRecFormat

/// Checkpoints reuse the weight-file container (CRC-checked) with `ckpt.*` keys and tensors:
/// parameters, Adam moments and step, the best parameters, epoch, RNG state, early-stopping
/// state and the epoch log. Resuming from one continues exactly as if never interrupted.
extension Trainer {
    static let checkpointVersion: Int64 = 1

    /// Everything needed to continue training, as bytes.
    public func checkpointBytes() throws -> [UInt8] {
        var b = WeightFileBuilder()
        b.setMeta("general.architecture", .string("lsrec-v1-checkpoint"))
        b.setMeta("general.created_by", .string(trainerVersion))
        b.setMeta("ckpt.version", .int(Self.checkpointVersion))
        b.setMeta("ckpt.shape", .string(Self.describe(shape)))
        b.setMeta("ckpt.data_split", .string(dataSplitDescription))
        b.setMeta("ckpt.epoch", .int(Int64(epoch)))
        b.setMeta("ckpt.adam_step", .int(Int64(adam.step)))
        let s = rng.s
        for (i, w) in [s.0, s.1, s.2, s.3].enumerated() { b.setMeta("ckpt.rng\(i)", .int(Int64(bitPattern: w))) }
        b.setMeta("ckpt.best_ndcg10", .float(bestNDCG))
        b.setMeta("ckpt.best_hr10", .float(bestHR))
        b.setMeta("ckpt.best_epoch", .int(Int64(bestEpoch)))
        b.setMeta("ckpt.bad_epochs", .int(Int64(badEpochs)))
        b.setMeta("ckpt.records", .string(records.map {
            "\($0.epoch) \($0.trainLoss.bitPattern) \($0.valNDCG10.bitPattern) \($0.valHR10.bitPattern) \($0.seconds.bitPattern) \($0.trainSeconds.bitPattern)"
        }.joined(separator: "\n")))
        let n = params.values.count
        b.addTensor("ckpt.params", shape: [n], floats: params.values)
        b.addTensor("ckpt.best", shape: [n], floats: bestValues)
        b.addTensor("ckpt.adam_m", shape: [n], floats: adam.m)
        b.addTensor("ckpt.adam_v", shape: [n], floats: adam.v)
        return try b.build()
    }

    /// Restores the state saved by `checkpointBytes`. The model sizes must match this trainer's
    /// configuration; the number of epochs (and other optimiser settings) may change.
    public func restore(checkpoint bytes: [UInt8]) throws {
        let f = try WeightFile(bytes: bytes)
        guard (try? f.string("general.architecture")) == "lsrec-v1-checkpoint" else {
            throw TrainError.checkpoint("not an lsrec checkpoint")
        }
        guard try f.int("ckpt.version") == Self.checkpointVersion else {
            throw TrainError.checkpoint("unsupported checkpoint version")
        }
        let saved = try f.string("ckpt.shape")
        guard saved == Self.describe(shape) else {
            throw TrainError.checkpoint("model sizes differ: checkpoint \(saved), now \(Self.describe(shape))")
        }
        if let savedSplit = try? f.string("ckpt.data_split"), savedSplit != dataSplitDescription {
            throw TrainError.checkpoint("training data differ: checkpoint \(savedSplit), now \(dataSplitDescription)")
        }
        let n = params.values.count
        func tensor(_ name: String) throws -> [Float] {
            let v = try f.floats(name)
            guard v.count == n else { throw TrainError.checkpoint("\(name) has \(v.count) values, expected \(n)") }
            return v
        }
        let values = try tensor("ckpt.params"), best = try tensor("ckpt.best")
        let m = try tensor("ckpt.adam_m"), v = try tensor("ckpt.adam_v")
        var records: [EpochRecord] = []
        for line in try f.string("ckpt.records").split(separator: "\n") {
            let w = line.split(separator: " ")
            guard w.count == 6, let e = Int(w[0]), let a = UInt64(w[1]), let b = UInt64(w[2]),
                  let c = UInt64(w[3]), let d = UInt64(w[4]), let t = UInt64(w[5]) else {
                throw TrainError.checkpoint("bad epoch record")
            }
            records.append(EpochRecord(epoch: e, trainLoss: Double(bitPattern: a), valNDCG10: Double(bitPattern: b),
                                       valHR10: Double(bitPattern: c), seconds: Double(bitPattern: d),
                                       trainSeconds: Double(bitPattern: t)))
        }
        let r = try (0..<4).map { UInt64(bitPattern: try f.int("ckpt.rng\($0)")) }
        params.values = values
        bestValues = best
        adam.m = m; adam.v = v
        adam.step = Int(try f.int("ckpt.adam_step"))
        rng.s = (r[0], r[1], r[2], r[3])
        epoch = Int(try f.int("ckpt.epoch"))
        bestNDCG = try f.float("ckpt.best_ndcg10")
        bestHR = try f.float("ckpt.best_hr10")
        bestEpoch = Int(try f.int("ckpt.best_epoch"))
        badEpochs = Int(try f.int("ckpt.bad_epochs"))
        self.records = records
    }

    /// What else fixes the training data and T: the cold-item draw, the text features and which
    /// events are targets.
    var dataSplitDescription: String {
        "cold=\(cold.count) fraction=\(config.coldFraction) seed=\(config.coldSeed); text=\(textDescription)"
            + (config.untimedTargets ? "" : "; untimed targets skipped")
            + untimedTargetUsersDescription
    }

    /// Users kept whole in training because their targets are untimed (LeaveOneOut), when there
    /// are any: a checkpoint from before that rule (they were split then) does not resume.
    var untimedTargetUsersDescription: String {
        let n = LeaveOneOut.counts(dataset).untimedTargetUsers
        return n > 0 ? "; \(n) users without timed targets in training" : ""
    }

    static func describe(_ s: NetworkShape) -> String {
        "N=\(s.nItems) d=\(s.dim) L=\(s.history) t=\(s.timeDim) B=\(s.timeBuckets) k=\(s.textDim) fusion=\(s.fusion.rawValue)" + (s.repeatBias ? " repeat-bias" : "")
    }
}
