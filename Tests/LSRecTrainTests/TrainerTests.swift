import XCTest
import LSRecCore
import LSRecFormat
@testable import LSRecTrain

final class TrainerTests: XCTestCase {
    static func data(users: Int = 40, items: Int = 30, seed: UInt64 = 5) -> Dataset {
        SyntheticData.generate(SyntheticData.Config(users: users, items: items, seed: seed))
    }

    static func tinyConfig(_ epochs: Int = 2) -> TrainConfig {
        var c = TrainConfig()
        c.dim = 8; c.history = 6; c.timeDim = 4; c.timeBuckets = 10; c.textDim = 4
        c.window = 5; c.batch = 6; c.epochs = epochs; c.patience = 100; c.threads = 2; c.seed = 11
        c.learningRate = 5e-3
        return c
    }

    func tempPath(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lsrec-trainer-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name).path
    }

    /// Same data, config, seed and thread count: byte-identical weight files; another seed differs.
    func testSameSeedGivesIdenticalBytes() throws {
        let ds = Self.data()
        let a = try Trainer(dataset: ds, config: Self.tinyConfig()); try a.run()
        let b = try Trainer(dataset: ds, config: Self.tinyConfig()); try b.run()
        let bytesA = try a.exportBytes(), bytesB = try b.exportBytes()
        XCTAssertEqual(bytesA, bytesB)
        var other = Self.tinyConfig(); other.seed = 12
        let c = try Trainer(dataset: ds, config: other); try c.run()
        XCTAssertNotEqual(bytesA, try c.exportBytes())
        // The file is a valid lsrec-v1 model with the trainer's metadata.
        let f = try WeightFile(bytes: bytesA)
        XCTAssertEqual(try f.string("general.created_by"), "lsrec-train 0.1.0")
        XCTAssertEqual(try f.int("train.epochs"), 2)
        XCTAssertEqual(try f.int("lsrec.text_dim"), 4)
        XCTAssertNoThrow(try Model(bytes: bytesA))
    }

    /// Interrupted after epoch 1 and resumed from the checkpoint file: same bytes as 3 straight epochs.
    func testResumeContinuesExactly() throws {
        let ds = Self.data()
        let straight = try Trainer(dataset: ds, config: Self.tinyConfig(3))
        try straight.run()
        let ckpt = tempPath("resume.ckpt")
        let first = try Trainer(dataset: ds, config: Self.tinyConfig(3))
        try first.run(checkpointPath: ckpt, epochLimit: 1)     // "interrupted" after epoch 1
        let resumed = try Trainer(dataset: ds, config: Self.tinyConfig(3))
        try resumed.restore(checkpoint: try FileIO.readAll(path: ckpt))
        XCTAssertEqual(resumed.epoch, 1)
        try resumed.run(checkpointPath: ckpt)
        XCTAssertEqual(resumed.epoch, 3)
        XCTAssertEqual(try straight.exportBytes(), try resumed.exportBytes())
        XCTAssertEqual(straight.records.map { $0.valNDCG10 }, resumed.records.map { $0.valNDCG10 })
        // A checkpoint of another model size is refused.
        var other = Self.tinyConfig(3); other.dim = 6
        XCTAssertThrowsError(try Trainer(dataset: ds, config: other).restore(checkpoint: try FileIO.readAll(path: ckpt)))
        // So is one of data whose split differs: a user whose targets lose their times is kept
        // whole in training now (LeaveOneOut), and the split description says so.
        var untimed = ds
        untimed.users[2].timestamps = untimed.users[2].timestamps.map { _ in -1 }
        let changed = try Trainer(dataset: untimed, config: Self.tinyConfig(3))
        XCTAssertTrue(changed.dataSplitDescription.hasSuffix("; 1 users without timed targets in training"),
                      changed.dataSplitDescription)
        XCTAssertThrowsError(try changed.restore(checkpoint: try FileIO.readAll(path: ckpt))) { e in
            XCTAssertTrue("\(e)".contains("training data differ"), "\(e)")
        }
    }

    /// The trainer's own forward and the inference core, fed the exported file, give the same
    /// scores (every fusion mode; text, unknown times, histories longer than L).
    func testTrainerForwardMatchesCore() throws {
        var ds = Self.data(users: 6)
        ds.users[0].timestamps[3] = -1          // an unknown time mid-history
        ds.users[1].timestamps[0] = -1          // unknown first time
        ds.users[4].items[12] = ds.users[4].items[10]   // an item held twice (the repeat term counts it once)
        for (fusion, repeatBias) in Fusion.allCases.map({ ($0, false) }) + [(.gate, true), (.short, true)] {
            let shape = NetworkShape(nItems: ds.nItems, dim: 8, history: 6, timeDim: 4, timeBuckets: 10,
                                     textDim: 4, fusion: fusion, repeatBias: repeatBias)
            var rng = SeededGenerator(seed: 77)
            let text = hashedTextFeatures(ds.itemText, nItems: ds.nItems, dim: 4)
            var p = NetworkParameters<Float>(shape: shape, text: text, initScale: 0.5, rng: &rng)
            for i in p.values.indices { p.values[i] += Float(rng.gaussian() * 0.3) }   // biases, tables too
            if repeatBias { p[.repeatBias] = [1.25] }
            let model = try Model(bytes: weightFileBytes(p, itemIDs: ds.itemIDs, trainMetadata: []))
            var worst: Float = 0
            for (u, user) in ds.users.enumerated() {
                let n = min(user.items.count - 1, 12 + u)
                let items = Array(user.items[0..<n]), times = Array(user.timestamps[0..<n])
                let now = u == 2 ? -1 : user.timestamps[n]
                var state = model.newState()
                try model.update(&state, itemIndices: items.map { Int($0) }, timestamps: times)
                var core = [Float](repeating: 0, count: ds.nItems)
                model.scores(state, now: now >= 0 ? .at(now) : .unknown, into: &core)
                let batch = WindowBatch.replay(items: items, timestamps: times, now: now, history: 6, timeBuckets: 10)
                let net = Network<Float>(shape: shape, lanes: 1, steps: n)
                net.resetCarry()
                net.forward(batch, p)
                let mine = net.scores(row: n - 1, p)
                for i in 0..<ds.nItems { worst = max(worst, abs(mine[i] - core[i])) }
                XCTAssertGreaterThan(core.max()! - core.min()!, 0.1, "scores should not be trivially flat")
            }
            print("parity \(fusion) repeat \(repeatBias): max |trainer - core| = \(worst)")
            XCTAssertLessThan(worst, 1e-4, "\(fusion) repeat \(repeatBias): trainer and core scores differ by \(worst)")
        }
    }

    /// Only training events are targets or inputs: the validation and test events never are.
    func testHeldOutEventsNeverTrained() {
        let users = [
            UserSequence(userID: 1, items: [0, 1, 2, 3, 4, 5], timestamps: [1, 2, 3, 4, 5, 6]),
            UserSequence(userID: 2, items: [6, 7], timestamps: [1, 2]),            // < 3 events: all training
            UserSequence(userID: 3, items: [8, 9, 10], timestamps: [1, 2, 3]),     // 1 training event: no target
        ]
        let ds = Dataset(itemIDs: (0..<11).map { Int64($0) }, itemText: nil, users: users, description: "")
        let s = TrainingSequences(dataset: ds, timeBuckets: 8)
        XCTAssertEqual(s.count, 2)
        XCTAssertEqual(s.targetCount, 3 + 1)
        XCTAssertEqual(Set(s.items), [0, 1, 2, 3, 6, 7])
        XCTAssertEqual(Self.served(s).targets, [1, 2, 3, 7])
    }

    /// Every window of two sequences on two lanes: the input items of the active rows and the
    /// targets (rows without one left out), each sorted.
    static func served(_ s: TrainingSequences) -> (inputs: [Int32], targets: [Int32]) {
        var rng = SeededGenerator(seed: 1)
        var sched = LaneScheduler(sequences: s, lanes: 2, order: [0, 1], rng: &rng)
        var b = WindowBatch(lanes: 2, steps: 2, history: 3)
        var inputs: [Int32] = [], targets: [Int32] = []
        while sched.next(into: &b) {
            for r in 0..<b.rows where b.active[r] { inputs.append(b.item[r]) }
            targets += b.target.filter { $0 >= 0 }
        }
        return (inputs.sorted(), targets.sorted())
    }

    /// `untimedTargets: false`: untimed events stay inputs (with the unknown gap) but are never
    /// predicted; timed events after them still are. The default trains on both.
    func testUntimedEventsCanBeInputsOnly() {
        let users = [
            // Training prefix 0,1,2,3 (untimed, untimed, timed, timed); 4, 5 are held out.
            UserSequence(userID: 1, items: [0, 1, 2, 3, 4, 5], timestamps: [-1, -1, 30, 40, 50, 60]),
            UserSequence(userID: 2, items: [6, 7, 8, 9], timestamps: [10, -1, 20, 30]),  // prefix 6, 7
        ]
        let ds = Dataset(itemIDs: (0..<10).map { Int64($0) }, itemText: nil, users: users, description: "")
        let all = TrainingSequences(dataset: ds, timeBuckets: 8)
        XCTAssertEqual(all.targetCount, 3 + 1)
        XCTAssertEqual(Self.served(all).inputs, [0, 1, 2, 6])
        XCTAssertEqual(Self.served(all).targets, [1, 2, 3, 7])
        let timedOnly = TrainingSequences(dataset: ds, timeBuckets: 8, untimedTargets: false)
        XCTAssertEqual(timedOnly.targetCount, 2)
        XCTAssertEqual(timedOnly.items, all.items)
        XCTAssertEqual(timedOnly.gapBucket, all.gapBucket)
        XCTAssertEqual(Self.served(timedOnly).inputs, [0, 1, 2, 6], "every context event is an input either way")
        XCTAssertEqual(Self.served(timedOnly).targets, [2, 3])
    }

    /// Through the trainer: the setting is recorded in the weight file and changes what is
    /// learned; on a log without any timestamp it fails with a message that names the cause.
    func testSkipUntimedTargetsInTheTrainer() throws {
        var data = Self.data(users: 30)
        for u in data.users.indices {  // the first half of every user's events loses its time
            for p in 0..<(data.users[u].timestamps.count / 2) { data.users[u].timestamps[p] = -1 }
        }
        var c = Self.tinyConfig(1)
        let all = try Trainer(dataset: data, config: c)
        c.untimedTargets = false
        let timed = try Trainer(dataset: data, config: c)
        XCTAssertLessThan(timed.sequences.targetCount, all.sequences.targetCount)
        XCTAssertGreaterThan(timed.sequences.targetCount, 0)
        try all.run(); try timed.run()
        let fa = try WeightFile(bytes: try all.exportBytes()), ft = try WeightFile(bytes: try timed.exportBytes())
        XCTAssertEqual(try ft.string("train.untimed_targets"), "skipped")
        XCTAssertNil(try? fa.string("train.untimed_targets"), "the default writes no key (bytes as before)")
        XCTAssertNotEqual(try fa.floats("item.embedding"), try ft.floats("item.embedding"))

        for u in data.users.indices { data.users[u].timestamps = data.users[u].timestamps.map { _ in -1 } }
        XCTAssertThrowsError(try Trainer(dataset: data, config: c)) { e in
            XCTAssertTrue("\(e)".contains("no training event has a timestamp"), "\(e)")
        }
    }

    /// The timing breakdown puts each evaluated user's rank in the right group, in data order.
    func testTimingBreakdownGroups() {
        let users = [
            UserSequence(userID: 1, items: [0, 1, 2, 3], timestamps: [1, 2, 3, 4]),     // timed
            UserSequence(userID: 2, items: [4, 5], timestamps: [-1, 1]),                // never evaluated
            UserSequence(userID: 3, items: [1, 2, 3], timestamps: [-1, 5, 6]),          // untimed history
            UserSequence(userID: 4, items: [2, 3, 4, 5], timestamps: [1, 2, 3, 9]),     // timed
            UserSequence(userID: 5, items: [2, 3, 4, 5], timestamps: [-1, -1, -1, 9]),  // untimed validation target: never evaluated
        ]
        let ds = Dataset(itemIDs: (0..<6).map { Int64($0) }, itemText: nil, users: users, description: "")
        var rep = evaluate(MostPopular(counts: [1, 1, 1, 1, 1, 1]), on: ds, split: .test)
        rep.fullRanks = [3, 1, 20]
        let t = TimingBreakdown(report: rep, data: ds)
        XCTAssertEqual(t?.timed.users, 2)
        XCTAssertEqual(t?.partlyTimed.users, 1)
        XCTAssertEqual(t?.partlyTimed.hr10, 1)
        XCTAssertEqual(t?.timed.hr10, 0.5)
        XCTAssertEqual(t?.timed.meanRank, 11.5)
        XCTAssertEqual(t?.summary(), "every history event timed (2 users): NDCG@10 0.2500 HR@10 0.5000; "
                       + "some untimed (1): NDCG@10 1.0000 HR@10 1.0000")
        XCTAssertTrue(t?.table().contains("| some history events untimed | 1 | 1.0000 | 1.0000 |") == true, t?.table() ?? "")
        rep.fullRanks = [3]    // maxUsers = 1: only the first user, one group → no breakdown
        XCTAssertNil(TimingBreakdown(report: rep, data: ds))
    }

    /// Training lowers the loss, with both losses.
    func testLossDecreases() throws {
        for loss in LossKind.allCases {
            var c = Self.tinyConfig(3)
            c.loss = loss; c.negatives = 10
            let t = try Trainer(dataset: Self.data(users: 40), config: c)
            try t.run()
            let first = t.records.first!.trainLoss, last = t.records.last!.trainLoss
            XCTAssertLessThan(last, first * 0.97, "\(loss): loss \(first) -> \(last)")
        }
    }

    func testFastExpAccuracy() {
        var xs = stride(from: -87.0, through: 88.0, by: 0.173).map { Float($0) }
        let ref = xs.map { Foundation.exp(Double($0)) }
        xs.withUnsafeMutableBufferPointer { fastExpInPlace($0.baseAddress!, $0.count) }
        for (x, r) in zip(xs, ref) { XCTAssertLessThan(abs(Double(x) - r) / r, 5e-7) }
    }

    func testAdamClipsGlobalNorm() {
        var adam = Adam(count: 2)
        var p: [Float] = [0, 0]
        let norm = adam.update(&p, grad: [30, 40], learningRate: 0.1, clipNorm: 5)
        XCTAssertEqual(norm, 50, accuracy: 1e-9)
        // First Adam step moves each coordinate by lr·sign(g) regardless of scale.
        XCTAssertEqual(p[0], -0.1, accuracy: 1e-6)
        XCTAssertEqual(p[1], -0.1, accuracy: 1e-6)
        XCTAssertEqual(adam.m[0], 0.1 * 3, accuracy: 1e-6)   // clipped gradient (3, 4)
    }

    func testHashedTextFeaturesAreNormalisedAndDeterministic() {
        let t = hashedTextFeatures(["Toy Story (1995) Animation|Children's", "", "toy story"], nItems: 3, dim: 8)
        let n0 = (0..<8).reduce(Float(0)) { $0 + t[$1] * t[$1] }
        XCTAssertEqual(n0, 1, accuracy: 1e-5)
        XCTAssertEqual(Array(t[8..<16]), [Float](repeating: 0, count: 8))
        XCTAssertEqual(t, hashedTextFeatures(["Toy Story (1995) Animation|Children's", "", "toy story"], nItems: 3, dim: 8))
    }
}
