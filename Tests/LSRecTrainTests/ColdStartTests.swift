import XCTest
import LSRecCore
import LSRecFormat
@testable import LSRecTrain

/// The cold-start protocol (`--cold-items`): the split, the softmax mask, the written cold rows
/// and the cold-target evaluation.
final class ColdStartTests: XCTestCase {
    static func config(epochs: Int = 2, cold: Double = 0.2) -> TrainConfig {
        var c = TrainerTests.tinyConfig(epochs)
        c.coldFraction = cold
        c.coldSeed = 4
        return c
    }

    /// The draw: round(f·N) distinct items, fixed by the cold seed alone.
    func testColdDrawIsSeededAndSized() {
        let a = ColdItems.choose(nItems: 40, fraction: 0.2, seed: 4)
        XCTAssertEqual(a.count, 8)
        XCTAssertEqual(Set(a.indices).count, 8)
        XCTAssertEqual(a.mask.filter { $0 }.count, 8)
        XCTAssertEqual(a, ColdItems.choose(nItems: 40, fraction: 0.2, seed: 4))
        XCTAssertNotEqual(a, ColdItems.choose(nItems: 40, fraction: 0.2, seed: 5))
        XCTAssertTrue(ColdItems.choose(nItems: 40, fraction: 0, seed: 4).isEmpty)
        XCTAssertEqual(ColdItems.choose(nItems: 3667, fraction: 0.1, seed: 1).count, 367)
    }

    /// Every event of a cold item leaves the training sequences and no other event does; time
    /// buckets are those of the filtered sequence (gaps from the previous kept event).
    func testColdSplitRemovesExactlyTheColdEvents() {
        let ds = TrainerTests.data(users: 60, items: 40)
        let cold = ColdItems.choose(nItems: 40, fraction: 0.2, seed: 4)
        let seqs = TrainingSequences(dataset: ds, timeBuckets: 10, cold: cold)
        XCTAssertFalse(seqs.items.contains { cold.mask[Int($0)] }, "a cold item is still in training")
        // Reference: each user's training prefix with cold events dropped, by a plain loop.
        var expected: [[Int32]] = [], expectedGaps: [[UInt8]] = []
        var coldEventsInPrefixes = 0
        for u in ds.users {
            var items: [Int32] = [], gaps: [UInt8] = [], last: Int64 = -1
            for p in 0..<LeaveOneOut(ds).trainingCount(u) {
                if cold.mask[Int(u.items[p])] { coldEventsInPrefixes += 1; continue }
                let s = u.timestamps[p]
                items.append(u.items[p])
                gaps.append(UInt8(timeBucket(s >= 0 && last >= 0 ? s - last : nil, buckets: 10)))
                if s >= 0 { last = s }
            }
            if items.count >= 2 { expected.append(items); expectedGaps.append(gaps) }
        }
        XCTAssertGreaterThan(coldEventsInPrefixes, 0, "the test data must have cold events to remove")
        XCTAssertEqual(seqs.count, expected.count)
        for s in 0..<min(seqs.count, expected.count) {
            let r = seqs.start[s] ..< seqs.start[s] + seqs.length[s]
            XCTAssertEqual(Array(seqs.items[r]), expected[s])
            XCTAssertEqual(Array(seqs.gapBucket[r]), expectedGaps[s])
        }
        // Without cold items the sequences are the plain training prefixes.
        let all = TrainingSequences(dataset: ds, timeBuckets: 10)
        XCTAssertEqual(all.items.count, seqs.items.count + coldEventsInPrefixes)
    }

    /// Cold items get no training signal: after training, their E rows and biases in the
    /// trainer's parameters are still exactly the initial values, while warm rows moved.
    func testColdItemsGetNoTrainingSignal() throws {
        let ds = TrainerTests.data(users: 60, items: 40)
        for loss in LossKind.allCases {
            var c = Self.config()
            c.loss = loss; c.negatives = 12
            let t = try Trainer(dataset: ds, config: c)
            let before = t.params
            try t.run()
            let d = c.dim
            let e0 = before[.itemEmbedding], e1 = t.params[.itemEmbedding]
            let b0 = before[.itemBias], b1 = t.params[.itemBias]
            var warmMoved = false
            for i in 0..<ds.nItems {
                let row0 = Array(e0[i * d ..< (i + 1) * d]), row1 = Array(e1[i * d ..< (i + 1) * d])
                if t.cold.mask[i] {
                    XCTAssertEqual(row0, row1, "\(loss): cold item \(i) embedding changed")
                    XCTAssertEqual(b0[i], b1[i], "\(loss): cold item \(i) bias changed")
                } else if row0 != row1 {
                    warmMoved = true
                }
            }
            XCTAssertTrue(warmMoved, "\(loss): training changed nothing")
        }
    }

    /// The written model gives every cold item exactly the new-item rule of the core
    /// (Model.newItemVector): E row 0, so e = P·t, and bias = median of the trained biases.
    func testWrittenColdRowsAreTheNewItemVector() throws {
        let ds = TrainerTests.data(users: 60, items: 40)
        let t = try Trainer(dataset: ds, config: Self.config())
        try t.run()
        let bytes = try t.exportBytes()
        let f = try WeightFile(bytes: bytes)
        let model = try Model(bytes: bytes)
        let d = model.dim, k = model.config.textDim
        XCTAssertEqual(k, 4)
        let e = try f.floats("item.embedding"), b = try f.floats("item.bias"), text = try f.floats("item.text")
        // Independent median of the warm biases, in Double.
        let warm = (0..<ds.nItems).filter { !t.cold.mask[$0] }.map { Double(b[$0]) }.sorted()
        let median = warm.count % 2 == 1 ? warm[warm.count / 2] : (warm[warm.count / 2 - 1] + warm[warm.count / 2]) / 2
        XCTAssertEqual(Double(model.newItemBias), median, accuracy: 1e-7)
        var checked = 0
        for i in t.cold.indices.map(Int.init) {
            XCTAssertEqual(Array(e[i * d ..< (i + 1) * d]), [Float](repeating: 0, count: d), "E row of cold item \(i)")
            XCTAssertEqual(b[i], model.newItemBias, "bias of cold item \(i)")
            let row = Array(text[i * k ..< (i + 1) * k])
            XCTAssertTrue(row.contains { $0 != 0 }, "synthetic items have text")
            let new = try model.newItemVector(text: row)
            XCTAssertEqual(new.bias, b[i])
            let have = model.itemVector(i)
            for j in 0..<d { XCTAssertEqual(have[j], new.vector[j], accuracy: 1e-6 * max(1, abs(new.vector[j]))) }
            checked += 1
        }
        XCTAssertEqual(checked, 8)
        // Warm rows are trained values, not the rule.
        XCTAssertTrue((0..<ds.nItems).contains { !t.cold.mask[$0] && b[$0] != model.newItemBias })
        // The held-out ids are recorded for `lsrec eval`.
        let ids = try XCTUnwrap(try ColdItems.recordedIDs(in: model))
        XCTAssertEqual(ids, t.cold.indices.map { ds.itemIDs[Int($0)] })
        XCTAssertEqual(ColdItems(itemIDs: ds.itemIDs, coldIDs: ids), t.cold)
        XCTAssertEqual(try f.float("train.cold_fraction"), 0.2)
        // A model without cold items records none.
        let plain = try Trainer(dataset: ds, config: Self.config(epochs: 1, cold: 0))
        try plain.run()
        XCTAssertNil(try ColdItems.recordedIDs(in: try Model(bytes: plain.exportBytes())))
    }

    /// With item-ID dropout the new-item bias is learned and written: `item.new_bias` is in the
    /// file, the loaded model's `newItemBias` is that value (not the median), and the cold rows
    /// and `newItemVector` use it. Without dropout the file has no such tensor.
    func testItemDropoutWritesTheLearnedNewItemBias() throws {
        let ds = TrainerTests.data(users: 60, items: 40)
        var c = Self.config()
        c.idDropout = 0.5
        let t = try Trainer(dataset: ds, config: c)
        try t.run()
        let bytes = try t.exportBytes()
        let f = try WeightFile(bytes: bytes)
        let stored = try f.floats("item.new_bias")
        XCTAssertEqual(stored.count, 1)
        let model = try Model(bytes: bytes)
        XCTAssertEqual(model.newItemBias, stored[0])
        XCTAssertNotEqual(stored[0], 0, "trained away from its zero start")
        let b = try f.floats("item.bias")
        XCTAssertNotEqual(stored[0], Model.median((0..<ds.nItems).filter { !t.cold.mask[$0] }.map { b[$0] }))
        for i in t.cold.indices.map(Int.init) { XCTAssertEqual(b[i], stored[0], "bias of cold item \(i)") }
        let text = try f.floats("item.text"), k = model.config.textDim
        XCTAssertEqual(try model.newItemVector(text: Array(text[0..<k])).bias, stored[0])

        let plain = try Trainer(dataset: ds, config: Self.config())
        try plain.run()
        XCTAssertNil(try WeightFile(bytes: plain.exportBytes()).tensor("item.new_bias"))
    }

    /// Cold-target evaluation: exactly the users whose target is cold, popularity blind to cold
    /// items, and the deterministic cold-split training.
    func testColdStartEvaluationSplitsUsersByTarget() throws {
        let ds = TrainerTests.data(users: 60, items: 40)
        let t = try Trainer(dataset: ds, config: Self.config(epochs: 1))
        try t.run()
        let bytes = try t.exportBytes()
        let again = try Trainer(dataset: ds, config: Self.config(epochs: 1))
        try again.run()
        XCTAssertEqual(bytes, try again.exportBytes(), "cold-split training must be deterministic")
        let model = try Model(bytes: bytes)
        let r = evaluateColdStart(CoreRanker(model: model), on: ds, cold: t.cold, split: .test, threads: 2)
        let coldTargets = ds.users.filter { u in
            LeaveOneOut(ds).targetIndex(u, .test).map { t.cold.mask[Int(u.items[$0])] } ?? false
        }.count
        XCTAssertGreaterThan(coldTargets, 0)
        XCTAssertEqual(r.model.usersEvaluated, coldTargets)
        XCTAssertEqual(r.popularity.usersEvaluated, coldTargets)
        XCTAssertEqual(r.warm.usersEvaluated, LeaveOneOut.counts(ds).evaluableUsers - coldTargets)
        // Among the cold items only: same users, each target's rank = 1 + the cold items ranked
        // above it (ties against the target for lower indices), never worse than its full rank.
        XCTAssertEqual(r.amongCold.usersEvaluated, coldTargets)
        XCTAssertEqual(r.amongCold.fullRanks.count, r.model.fullRanks.count)
        for (a, f) in zip(r.amongCold.fullRanks, r.model.fullRanks) {
            XCTAssertLessThanOrEqual(a, f)
            XCTAssertLessThanOrEqual(Int(a), t.cold.count)
        }
        let coldUsers = ds.keepingUsers(split: .test) { t.cold.mask[Int($0)] }
        let ranker = CoreRanker(model: model)
        for (k, u) in coldUsers.users.enumerated() {
            let ti = LeaveOneOut(ds).targetIndex(u, .test)!
            var s = [Float](repeating: 0, count: ds.nItems)
            ranker.scores(user: k, history: u.items[0..<ti], timestamps: u.timestamps[0..<ti], now: u.timestamps[ti], into: &s)
            let target = Int(u.items[ti])
            let above = t.cold.indices.filter { j in
                s[Int(j)] > s[target] || (Int(j) < target && s[Int(j)] == s[target])
            }.count
            XCTAssertEqual(Int(r.amongCold.fullRanks[k]), above + 1, "user \(k)")
        }
        let pop = MostPopular(data: ds, excluding: t.cold)
        for i in t.cold.indices { XCTAssertEqual(pop.counts[Int(i)], 0) }
        let warmTrainingEvents = ds.users.reduce(0) { acc, u in
            acc + u.items.prefix(LeaveOneOut(ds).trainingCount(u)).filter { !t.cold.mask[Int($0)] }.count
        }
        XCTAssertEqual(pop.counts.reduce(0, +), Float(warmTrainingEvents))
        // Validation never looks at a cold target.
        XCTAssertFalse(t.validationData.users.contains { u in
            LeaveOneOut(ds).targetIndex(u, .validation).map { t.cold.mask[Int(u.items[$0])] } ?? true
        })
    }

    /// Finite-difference gradient check of the masked softmax (cold items excluded), on the
    /// gradient check's tiny model and windows built with the cold items removed: the analytic
    /// gradient matches, and cold rows of E and b get exactly 0.
    func testMaskedSoftmaxGradient() {
        let g = fdCheck(cold: [0, 4], dropped: [])
        let shape = GradientCheckTests.tinyShape(.gate), layout = ParameterLayout(shape)
        for grad in g {
            for c in [0, 4] {
                for j in 0..<shape.dim { XCTAssertEqual(grad[layout.offsets[ParamID.itemEmbedding.rawValue] + c * shape.dim + j], 0) }
                XCTAssertEqual(grad[layout.offsets[ParamID.itemBias.rawValue] + c], 0)
            }
        }
    }

    /// Item-ID dropout: with a fixed set of dropped items the analytic gradient still matches
    /// finite differences; dropped items' E rows get exactly 0 while P keeps a gradient.
    func testItemDropoutGradient() {
        let g = fdCheck(cold: [], dropped: [2, 5])
        let shape = GradientCheckTests.tinyShape(.gate), layout = ParameterLayout(shape)
        // Dropped items' own biases get nothing; their share goes to the shared new-item bias.
        for c in [2, 5] { XCTAssertTrue(g.allSatisfy { $0[layout.offsets[ParamID.itemBias.rawValue] + c] == 0 }) }
        XCTAssertTrue(g.contains { $0[layout.offsets[ParamID.newItemBias.rawValue]] != 0 })
        // Without dropped items the new-item bias is not part of the loss.
        XCTAssertTrue(fdCheck(cold: [], dropped: []).allSatisfy { $0[layout.offsets[ParamID.newItemBias.rawValue]] == 0 })
        for grad in g {
            for c in [2, 5] {
                for j in 0..<shape.dim { XCTAssertEqual(grad[layout.offsets[ParamID.itemEmbedding.rawValue] + c * shape.dim + j], 0) }
            }
            XCTAssertTrue(grad[layout.range(.textProj)].contains { $0 != 0 })
        }
        // Items 2 and 5 are targets and inputs of these windows, so dropping them matters.
        XCTAssertTrue(TrainingSequences(dataset: GradientCheckTests.tinyDataset(), timeBuckets: 6).items.contains(5))
    }

    /// Runs the central-difference check over the tiny windows; returns each window's analytic gradient.
    func fdCheck(cold coldItems: [Int32], dropped: [Int32], file: StaticString = #filePath, line: UInt = #line) -> [[Double]] {
        let shape = GradientCheckTests.tinyShape(.gate)
        let params = GradientCheckTests.randomParams(shape, seed: 42)
        let cold = ColdItems(nItems: 7, indices: coldItems)
        let seqs = TrainingSequences(dataset: GradientCheckTests.tinyDataset(), timeBuckets: 6, cold: cold)
        var rng = SeededGenerator(seed: 9)
        var sched = LaneScheduler(sequences: seqs, lanes: 2, order: Array(0..<seqs.count), rng: &rng)
        var wins: [WindowBatch] = []
        var b = WindowBatch(lanes: 2, steps: 3, history: 3)
        while sched.next(into: &b) { wins.append(b) }
        XCTAssertFalse(wins.isEmpty, file: file, line: line)
        let net = Network<Double>(shape: shape, lanes: 2, steps: 3, threads: 2, loss: .full, blockRows: 2)
        net.maskedItems = cold.indices
        net.droppedItems = dropped
        net.resetCarry()
        let eps = GradientCheckTests.eps
        var worst = 0.0
        var grads: [[Double]] = []
        for batch in wins {
            let (_, targets) = net.forward(batch, params)
            XCTAssertGreaterThan(targets, 0, file: file, line: line)
            net.backward(params)
            let analytic = net.grad
            grads.append(analytic)
            var p = params
            for i in p.values.indices {
                let orig = p.values[i]
                p.values[i] = orig + eps
                let (lp, np) = net.forward(batch, p)
                p.values[i] = orig - eps
                let (lm, nm) = net.forward(batch, p)
                p.values[i] = orig
                let numeric = (lp / Double(np) - lm / Double(nm)) / (2 * eps)
                let err = abs(analytic[i] - numeric) / max(abs(analytic[i]) + abs(numeric), 1e-3)
                worst = max(worst, err)
                XCTAssertLessThanOrEqual(err, GradientCheckTests.tolerance,
                                         "parameter \(i): analytic \(analytic[i]) numeric \(numeric)", file: file, line: line)
            }
            net.forward(batch, params)
            net.commitCarry()
        }
        print("gradient check cold \(coldItems) dropped \(dropped): max relative error \(worst)")
        return grads
    }
}
