import Foundation

/// Trains the SASRec baseline on `dataset`'s leave-one-out training events (the validation and
/// test events are never trained on) and returns the parameters with the best validation
/// NDCG@10 (full ranking, seen items kept), evaluated by the shared harness every
/// `config.evalEvery` epochs; training stops after `config.patience` evaluations without a new
/// best, or after `config.maxEpochs`.
///
/// Each epoch visits every user with ≥ 2 training events once, in a seeded random order, in
/// batches of `config.batchSize` users; a user contributes its last `maxLength` (input, target)
/// pairs. Adam with β = (0.9, 0.98) as in the reference code. Same seed and thread count ⇒
/// same model. `log` receives one line per epoch and per evaluation.
public func trainSASRec(_ dataset: Dataset, config: SASRecConfig, log: (String) -> Void) -> SASRecModel {
    let clock = ContinuousClock()
    let start = clock.now
    let blasThreads = sasSetBLASThreads(1)   // parallelism is ours (see sasSetBLASThreads)
    defer { sasSetBLASThreads(blasThreads) }
    let data = SASRecTrainingData(dataset: dataset, maxLength: config.maxLength)
    let layout = SASRecLayout(nItems: dataset.nItems, config: config)
    var params = layout.initialParameters(seed: config.seed)
    var report = SASRecTrainingReport()
    report.rowsPerEpoch = data.rowsPerEpoch
    log("SASRec: \(data.count) training users, \(data.rowsPerEpoch) positions/epoch, \(dataset.nItems) items, "
        + "\(layout.total) parameters; d=\(config.dim) n=\(config.maxLength) blocks=\(config.blocks) "
        + "dropout=\(config.dropout) loss=\(config.loss.rawValue) batch=\(config.batchSize) lr=\(config.learningRate)")
    guard data.count > 0 else {
        return SASRecModel(config: config, nItems: dataset.nItems, parameters: params, report: report)
    }

    let net = SASRecNetwork<Float>(layout: layout, threads: config.threads, dropout: config.dropout,
                                   layerNormEpsilon: config.layerNormEpsilon)
    var adam = SASRecAdam(count: layout.total, config: config)
    var rng = SeededGenerator(seed: config.seed ^ 0x5A5_4EC0_0000_0001)
    var order = Array(0..<data.count)
    var bestParams = params
    var sinceBest = 0
    for epoch in 1...max(1, config.maxEpochs) {
        let epochStart = clock.now
        for k in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(k, rng.index(below: k + 1)) }
        var lossSum = 0.0, rowsSeen = 0
        for b0 in stride(from: 0, to: order.count, by: config.batchSize) {
            let which = order[b0..<min(b0 + config.batchSize, order.count)]
            let batch = data.batch(which, negativesFrom: config.loss == .binaryCrossEntropy ? dataset.nItems : nil,
                                   rng: &rng)
            let dropoutSeed = rng.next()
            let loss = params.withUnsafeBufferPointer {
                net.lossAndGradient(batch, $0.baseAddress!, loss: config.loss, dropoutSeed: dropoutSeed)
            }
            lossSum += loss * Double(batch.rows)
            rowsSeen += batch.rows
            adam.step(&params, grad: net.grad.p)
        }
        report.epochs = epoch
        report.epochLoss.append(lossSum / Double(max(rowsSeen, 1)))
        log(String(format: "epoch %d: loss %.4f (%.1f s)", epoch, report.epochLoss.last!,
                   seconds(clock.now - epochStart)))

        guard epoch % max(1, config.evalEvery) == 0 || epoch == config.maxEpochs else { continue }
        let model = SASRecModel(config: config, nItems: dataset.nItems, parameters: params, report: report)
        let rep = evaluate(model, on: dataset, split: .validation, maxUsers: config.validationUsers,
                           threads: config.threads)
        report.validation.append(.init(epoch: epoch, ndcg10: rep.full.ndcg10, hr10: rep.full.hr10))
        let improved = rep.full.ndcg10 > report.bestValidationNDCG10
        if improved {
            report.bestValidationNDCG10 = rep.full.ndcg10
            report.bestEpoch = epoch
            bestParams = params
            sinceBest = 0
        } else {
            sinceBest += 1
        }
        log(String(format: "  validation NDCG@10 %.4f HR@10 %.4f%@ (%.1f s)", rep.full.ndcg10, rep.full.hr10,
                   improved ? " *" : "", rep.seconds))
        if sinceBest >= config.patience { break }
    }
    report.seconds = seconds(clock.now - start)
    if report.bestEpoch == 0 { bestParams = params } // never evaluated: keep the last parameters
    log(String(format: "SASRec: %d epochs, best epoch %d (validation NDCG@10 %.4f), %.1f s",
               report.epochs, report.bestEpoch, report.bestValidationNDCG10, report.seconds))
    return SASRecModel(config: config, nItems: dataset.nItems, parameters: bestParams, report: report)
}

/// Adam (Kingma & Ba) with bias correction, no weight decay (the reference uses none on ML-1M).
struct SASRecAdam {
    var m: [Float], v: [Float]
    var t = 0
    let lr: Double, beta1: Double, beta2: Double, eps: Float

    init(count: Int, config: SASRecConfig) {
        m = [Float](repeating: 0, count: count)
        v = [Float](repeating: 0, count: count)
        lr = config.learningRate; beta1 = config.adamBeta1; beta2 = config.adamBeta2
        eps = Float(config.adamEpsilon)
    }

    mutating func step(_ params: inout [Float], grad g: UnsafePointer<Float>) {
        t += 1
        let b1 = Float(beta1), b2 = Float(beta2)
        let c1 = Float(1 - Foundation.pow(beta1, Double(t))), c2 = Float(1 - Foundation.pow(beta2, Double(t)))
        let lrF = Float(lr)
        params.withUnsafeMutableBufferPointer { p in
            m.withUnsafeMutableBufferPointer { m in
                v.withUnsafeMutableBufferPointer { v in
                    for i in 0..<p.count {
                        let gi = g[i]
                        m[i] = b1 * m[i] + (1 - b1) * gi
                        v[i] = b2 * v[i] + (1 - b2) * gi * gi
                        p[i] -= lrF * (m[i] / c1) / ((v[i] / c2).squareRoot() + eps)
                    }
                }
            }
        }
    }
}
