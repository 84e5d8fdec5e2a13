import Foundation
import LSRecCore
import LSRecFormat

/// One line of the training log.
public struct EpochRecord: Sendable, Equatable {
    public var epoch: Int
    public var trainLoss: Double
    public var valNDCG10: Double
    public var valHR10: Double
    /// Wall time of the epoch including validation (not part of any weight file).
    public var seconds: Double
    /// Wall time of the training pass alone.
    public var trainSeconds: Double = 0
}

/// Trains an lsrec-v1 network on a data set: Adam on truncated-BPTT windows, validation
/// NDCG@10 through the inference core after every epoch, early stopping, checkpoints.
/// Same data, config and thread count ⇒ the same weight-file bytes.
public final class Trainer {
    public let config: TrainConfig
    public let dataset: Dataset
    public let shape: NetworkShape
    public let sequences: TrainingSequences
    /// Current parameters.
    public internal(set) var params: NetworkParameters<Float>
    /// Parameters of the best validation epoch (the export); equal to `params` before any epoch.
    public internal(set) var bestValues: [Float]
    var adam: Adam
    var rng: SeededGenerator
    /// Completed epochs.
    public internal(set) var epoch = 0
    public internal(set) var bestNDCG = -1.0
    public internal(set) var bestHR = 0.0
    public internal(set) var bestEpoch = 0
    public internal(set) var badEpochs = 0
    public internal(set) var records: [EpochRecord] = []
    let network: Network<Float>
    var batch: WindowBatch
    /// Sampled softmax proposal (unigram^0.75 of training targets).
    let proposal: WeightedSampler?
    /// Items held out entirely from training (`config.coldFraction`; empty by default).
    public let cold: ColdItems
    /// The validation data: `dataset` without the users whose validation target is a cold item,
    /// so held-out items do not even steer early stopping.
    let validationData: Dataset
    /// `train.text_features` of the export.
    public let textDescription: String

    /// Prepares data, text features and the seeded initial parameters.
    /// - Parameter text: the fixed text matrix T (`ItemTextFeatures.make`), whose width must equal
    ///   `config.textDim`; nil = hashed word features of `dataset.itemText` of width `config.textDim`.
    public init(dataset: Dataset, config: TrainConfig, text: ItemTextFeatures? = nil) throws {
        try config.validate()
        self.config = config
        self.dataset = dataset
        guard dataset.nItems > 0 else { throw TrainError.noTrainingData("the data set has no items") }
        shape = NetworkShape(nItems: dataset.nItems, dim: config.dim, history: config.history,
                             timeDim: config.timeDim, timeBuckets: config.timeBuckets,
                             textDim: config.textDim, fusion: config.fusion, repeatBias: config.repeatBias)
        let cold = ColdItems.choose(nItems: dataset.nItems, fraction: config.coldFraction, seed: config.coldSeed)
        self.cold = cold
        validationData = cold.isEmpty ? dataset : dataset.keepingUsers(split: .validation) { !cold.mask[Int($0)] }
        sequences = TrainingSequences(dataset: dataset, timeBuckets: config.timeBuckets, cold: cold,
                                       untimedTargets: config.untimedTargets)
        guard sequences.targetCount > 0 else {
            throw TrainError.noTrainingData(sequences.count > 0 && !config.untimedTargets
                ? "no training event has a timestamp, and untimed events are not targets (skip-untimed-targets)"
                : "no user has two training events")
        }
        // BLAS stays single-threaded: the trainer splits work over `threads` workers itself
        // (no OpenBLAS spin-waiting, and results depend only on the worker count).
        setBLASThreads(1)
        rng = SeededGenerator(seed: config.seed)
        let features = try text ?? ItemTextFeatures.make(config.textDim > 0 ? .hashed(dim: config.textDim) : .none,
                                                         texts: dataset.itemText, nItems: dataset.nItems)
        guard features.dim == config.textDim, features.values.count == dataset.nItems * config.textDim else {
            throw TrainError.invalidConfig("text features have width \(features.dim) (\(features.values.count) values), "
                                           + "the configuration text dim \(config.textDim) for \(dataset.nItems) items")
        }
        textDescription = features.description
        params = NetworkParameters(shape: shape, text: features.values, initScale: config.initScale, rng: &rng)
        bestValues = params.values
        adam = Adam(count: params.values.count)
        network = Network(shape: shape, lanes: config.batch, steps: config.window, threads: config.threads,
                          loss: config.loss, negatives: config.negatives)
        network.maskedItems = cold.indices
        batch = WindowBatch(lanes: config.batch, steps: config.window, history: config.history)
        if config.loss == .sampled {
            // Cold items get weight 0: never drawn as negatives.
            var counts = cold.mask.map { $0 ? 0.0 : 1.0 }
            for s in 0..<sequences.count {
                for p in 1..<sequences.length[s] where sequences.isTarget[sequences.start[s] + p] {
                    counts[Int(sequences.items[sequences.start[s] + p])] += 1
                }
            }
            let w = counts.map { Foundation.pow($0, 0.75) }
            let total = w.reduce(0, +)
            proposal = WeightedSampler(weights: w)
            network.logExpectedCount = w.map { Float(Foundation.log(Double(config.negatives) * $0 / total)) }
        } else {
            proposal = nil
        }
    }

    /// Wall seconds the network has spent in its loss/scoring part so far (`Network.lossSeconds`).
    public var lossSeconds: Double { network.lossSeconds }

    /// True once early stopping has triggered or every epoch has run.
    public var finished: Bool { epoch >= config.epochs || badEpochs >= config.patience }

    /// Trains one epoch over all training targets; returns the mean training loss.
    public func trainEpoch(progress: ((TrainProgress) -> Void)? = nil) -> Double {
        var order = Array(0..<sequences.count)
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, rng.index(below: i + 1)) }
        var sched = LaneScheduler(sequences: sequences, lanes: config.batch, order: order, rng: &rng)
        let windows = (sched.maxLaneTargets + config.window - 1) / config.window
        network.resetCarry()
        var lossSum = 0.0, targets = 0, b = 0
        let start = Date()
        while sched.next(into: &batch) {
            let lr = learningRate(progress: (Double(epoch) + Double(b) / Double(max(windows, 1))) / Double(max(config.epochs, 1)))
            if let proposal {
                network.setNegatives((0..<config.negatives).map { _ in Int32(proposal.sample(&rng)) })
            }
            network.sampleDropout(input: config.dropoutInput, output: config.dropoutOutput, rng: &rng)
            // Drawn only when on, so runs without it keep their random stream (and bytes).
            if config.idDropout > 0 && config.textDim > 0 { network.sampleItemDropout(config.idDropout, rng: &rng) }
            let (sum, n) = network.forward(batch, params)
            if n > 0 {
                network.backward(params)
                adam.update(&params.values, grad: network.grad, learningRate: lr,
                            beta1: config.beta1, beta2: config.beta2, epsilon: config.epsilon,
                            weightDecay: config.weightDecay, clipNorm: config.clipNorm, threads: config.threads)
            }
            network.commitCarry()
            lossSum += sum; targets += n; b += 1
            if let progress {
                let el = Date().timeIntervalSince(start)
                let rate = Double(targets) / max(el, 1e-9)
                progress(TrainProgress(epoch: epoch + 1, epochs: config.epochs, batch: b, batches: max(windows, b),
                                       loss: lossSum / Double(max(targets, 1)), eventsPerSecond: rate,
                                       eta: Double(sched.remainingTargets) / max(rate, 1e-9)))
            }
        }
        return lossSum / Double(max(targets, 1))
    }

    /// The learning rate at `progress` ∈ [0, 1] of the planned epochs.
    public func learningRate(progress: Double) -> Double {
        switch config.schedule {
        case .constant: return config.learningRate
        case .cosine:
            let p = min(max(progress, 0), 1)
            return config.learningRate * (0.05 + 0.95 * 0.5 * (1 + Foundation.cos(Double.pi * p)))
        }
    }

    /// Validation NDCG@10 / HR@10 (full ranking) of the current parameters, scored by the
    /// inference core from the exported weight file.
    public func validate() throws -> (ndcg10: Double, hr10: Double, users: Int) {
        let model = try Model(bytes: weightFile(params.values))
        let report = evaluate(CoreRanker(model: model), on: validationData, split: .validation,
                              maxUsers: config.validationUsers, threads: config.threads)
        return (report.full.ndcg10, report.full.hr10, report.usersEvaluated)
    }

    /// Runs epochs until `config.epochs` or early stopping; after each epoch validates, logs,
    /// and checkpoints (atomically) when `checkpointPath` is set.
    /// `epochLimit` stops after that many epochs of this call (as if interrupted; for tests).
    public func run(checkpointPath: String? = nil, log: EpochLog? = nil, progressBar: ProgressBar? = nil,
                    epochLimit: Int? = nil, report: (EpochRecord) -> Void = { _ in }) throws {
        var ran = 0
        while !finished && ran < (epochLimit ?? Int.max) {
            ran += 1
            let start = Date()
            let loss = trainEpoch(progress: progressBar.map { bar in { bar.update($0) } })
            progressBar?.finishLine()
            guard loss.isFinite else { throw TrainError.diverged("training loss is \(loss) in epoch \(epoch + 1)") }
            epoch += 1
            let trainSeconds = Date().timeIntervalSince(start)
            let v = try validate()
            if v.users == 0 || v.ndcg10 > bestNDCG {
                bestNDCG = v.ndcg10; bestHR = v.hr10; bestEpoch = epoch; badEpochs = 0
                bestValues = params.values
            } else {
                badEpochs += 1
            }
            let rec = EpochRecord(epoch: epoch, trainLoss: loss, valNDCG10: v.ndcg10, valHR10: v.hr10,
                                  seconds: Date().timeIntervalSince(start), trainSeconds: trainSeconds)
            records.append(rec)
            try log?.append(rec)
            if let checkpointPath { try FileIO.writeAtomically(try checkpointBytes(), to: checkpointPath) }
            report(rec)
        }
    }

    /// `train.*` metadata of the export (no wall-clock values: the bytes must be reproducible).
    public var trainMetadata: [(String, MetaValue)] {
        var m: [(String, MetaValue)] = [
            ("train.trainer", .string(trainerVersion)),
            ("train.data", .string(dataset.description)),
            ("train.users", .int(Int64(dataset.users.count))),
            ("train.sequences", .int(Int64(sequences.count))),
            ("train.targets", .int(Int64(sequences.targetCount))),
            ("train.epochs", .int(Int64(epoch))),
            ("train.max_epochs", .int(Int64(config.epochs))),
            ("train.patience", .int(Int64(config.patience))),
            ("train.seed", .int(Int64(bitPattern: config.seed))),
            ("train.threads", .int(Int64(config.threads))),
            ("train.window", .int(Int64(config.window))),
            ("train.batch", .int(Int64(config.batch))),
            ("train.learning_rate", .float(config.learningRate)),
            ("train.lr_schedule", .string(config.schedule.rawValue)),
            ("train.adam_beta1", .float(config.beta1)),
            ("train.adam_beta2", .float(config.beta2)),
            ("train.adam_epsilon", .float(config.epsilon)),
            ("train.clip_norm", .float(config.clipNorm)),
            ("train.weight_decay", .float(config.weightDecay)),
            ("train.dropout_input", .float(config.dropoutInput)),
            ("train.dropout_output", .float(config.dropoutOutput)),
            ("train.init_scale", .float(config.initScale)),
            ("train.loss", .string(config.loss.rawValue)),
        ]
        if config.loss == .sampled { m.append(("train.negatives", .int(Int64(config.negatives)))) }
        if config.textDim > 0 { m.append(("train.text_features", .string(textDescription))) }
        m += coldMetadata
        if config.idDropout > 0 { m.append(("train.id_dropout", .float(config.idDropout))) }
        if !config.untimedTargets { m.append(("train.untimed_targets", .string("skipped"))) }
        m.append(("train.best_epoch", .int(Int64(bestEpoch))))
        m.append(("train.best_val_ndcg10", .float(max(bestNDCG, 0))))
        m.append(("train.best_val_hr10", .float(bestHR)))
        return m
    }

    /// Weight-file bytes of the given parameter values (current shape, item ids, metadata).
    public func weightFile(_ values: [Float]) throws -> [UInt8] {
        var p = params
        p.values = values
        let learned = trainsNewItemBias
        cold.applyNewItemRule(to: &p, learnedBias: learned)
        return try weightFileBytes(p, itemIDs: dataset.itemIDs, trainMetadata: trainMetadata, newItemBiasTrained: learned)
    }

    /// Item-ID dropout trains `item.new_bias` (only then do items stand without their ID embedding).
    var trainsNewItemBias: Bool { config.idDropout > 0 && config.textDim > 0 }

    /// The final export: the best validation epoch's parameters.
    public func exportBytes() throws -> [UInt8] { try weightFile(bestValues) }
}
