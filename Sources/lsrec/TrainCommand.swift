import ArgumentParser
import Foundation
import LSRecCore
import LSRecFormat
import LSRecTrain

extension Fusion: ExpressibleByArgument {}
extension LossKind: ExpressibleByArgument {}
extension LRSchedule: ExpressibleByArgument {}

/// `lsrec train`: fits an lsrec-v1 model and writes its weight file.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train an lsrec-v1 model (LSTM + attention, time-aware gate) and write a .lsrec file.",
        discussion: """
        Leave-one-out: for every user with ≥ 3 events the last event is the test target and the one \
        before it the validation target; neither is ever trained on. After each epoch the model is \
        exported, loaded by the inference core and scored on the validation targets (full ranking); \
        training stops early when validation NDCG@10 has not improved for --patience epochs, and the \
        best epoch's weights are written to --out (atomically). A checkpoint is written after every \
        epoch; --resume continues from it exactly. Same data, options, --seed and --threads give a \
        byte-identical weight file.

        Item text (title and genres for ML-1M): with --text-encoder the sentence encoder embeds every \
        item's text once (k = the encoder's width, 384 for MiniLM; cached in --text-cache, keyed by \
        the encoder's fingerprint and a hash of the texts) and the model learns a projection P of it; \
        otherwise --text-dim K > 0 uses K hashed word features; by default there is no text term. \
        A text projection is what lets a host add items after training (docs/MODEL.md).

        --cold-items F holds out a fraction F of the items entirely (cold-start protocol, \
        docs/EVALUATION.md): none of their events is trained on and they are masked from the softmax; \
        the written model gives them the new-item rule (E row 0, median trained bias), records them in \
        train.cold_items, and the test report adds cold-target metrics.
        """)

    @Option(help: "Interaction data: an ML-1M directory (ml-1m-timed), or a log file.")
    var data: String

    @Option(help: "Output weight file.")
    var out: String

    @Option(help: "Item text file (movies.dat, or item_id<TAB>text as `lsrec synth --item-text` writes); default: movies.dat beside MovieLens data.")
    var itemText: String?

    @Option(help: "Maximum epochs.") var epochs = TrainConfig().epochs
    @Option(help: "Model width d.") var dim = TrainConfig().dim
    @Option(help: "Attention history bound L (events).") var history = TrainConfig().history
    @Option(help: "Truncated back-propagation window W (events per lane per step).") var window = TrainConfig().window
    @Option(help: "Lanes (users trained side by side) per optimiser step.") var batch = TrainConfig().batch
    @Option(help: "Adam learning rate.") var lr = TrainConfig().learningRate
    @Option(help: "Learning-rate schedule over the planned epochs: cosine (to 5%) or constant.")
    var lrSchedule = TrainConfig().schedule
    @Option(help: "Random seed (initialisation, shuffling, negative sampling).") var seed: UInt64 = TrainConfig().seed
    @Option(help: "Worker threads (softmax blocks, attention lanes, evaluation); BLAS runs single-threaded in each.") var threads = TrainConfig().threads
    @Option(help: "Fusion: gate (the model), short (LSTM only), long (attention only).") var fusion = TrainConfig().fusion
    @Option(help: "Loss: full (softmax over all items) or sampled (sampled softmax with log-Q correction).")
    var loss = TrainConfig().loss
    @Option(help: "Negatives per window for --loss sampled.") var negatives = TrainConfig().negatives
    @Option(help: "Width of the hashed item-text features (0 = no text; ignored with --text-encoder unless it differs from the encoder's width).") var textDim = TrainConfig().textDim
    @Option(help: "Sentence-encoder file (e.g. build/encoder/minilm.lsrec from `make encoder`): item text is embedded with it instead of hashed.")
    var textEncoder: String?
    @Option(help: "Cache of the encoder's item-text vectors (default: <out>.textcache).") var textCache: String?
    @Option(help: "Cold-start protocol: hold out this fraction of items entirely from training (0 = none).")
    var coldItems = TrainConfig().coldFraction
    @Option(help: "Seed of the held-out item draw (independent of --seed).") var coldSeed: UInt64 = TrainConfig().coldSeed
    @Option(help: "Item-ID dropout: per window, drop each item's learned embedding with this probability so the text projection learns to stand alone, and learn the bias of new items (item.new_bias; cold start; needs text).")
    var idDropout = TrainConfig().idDropout
    @Flag(help: "Events without a timestamp are inputs but never training targets (ml-1m-full: they sit first in their user's sequence in file order, not time order).")
    var skipUntimedTargets = false
    @Flag(help: "Learn the repeat term: one weight added to the score of every item among the user's last L events (score.repeat_bias), so the model learns whether users pick an item again (on MovieLens they never do).")
    var repeatBias = false
    @Option(help: "Width of the time-gap embeddings.") var timeDim = TrainConfig().timeDim
    @Option(help: "Rows of the time-gap tables.") var timeBuckets = TrainConfig().timeBuckets
    @Option(help: "Early-stopping patience (epochs without a better validation NDCG@10).") var patience = TrainConfig().patience
    @Option(help: "Global gradient-norm clip (0 = off).") var clip = TrainConfig().clipNorm
    @Option(help: "Decoupled weight decay (0 = off).") var weightDecay = TrainConfig().weightDecay
    @Option(help: "Dropout on the LSTM input during training.") var dropoutInput = TrainConfig().dropoutInput
    @Option(help: "Dropout on the fused user vector during training.") var dropoutOutput = TrainConfig().dropoutOutput
    @Option(help: "Checkpoint written after every epoch (default: <out>.ckpt).") var checkpoint: String?
    @Flag(help: "Continue from the checkpoint.") var resume = false
    @Option(help: "Per-epoch CSV log (epoch, train loss, val NDCG@10, HR@10, seconds).") var log: String?
    @Option(help: "Use only the first N users of the data (quick runs).") var maxUsers: Int?
    @Option(help: "Validate on the first N evaluable users only (default: all).") var valUsers: Int?
    @Flag(help: "Skip the final test-split evaluation.") var noTest = false
    @Flag(help: "Print nothing but errors.") var quiet = false

    func run() throws {
        var c = TrainConfig()
        c.epochs = epochs; c.dim = dim; c.history = history; c.window = window; c.batch = batch
        c.learningRate = lr; c.schedule = lrSchedule; c.seed = seed; c.threads = threads; c.fusion = fusion; c.loss = loss
        c.negatives = negatives; c.textDim = textDim; c.timeDim = timeDim; c.timeBuckets = timeBuckets
        c.patience = patience; c.clipNorm = clip; c.weightDecay = weightDecay; c.validationUsers = valUsers
        c.dropoutInput = dropoutInput; c.dropoutOutput = dropoutOutput
        c.coldFraction = coldItems; c.coldSeed = coldSeed; c.idDropout = idDropout; c.untimedTargets = !skipUntimedTargets
        c.repeatBias = repeatBias
        func say(_ s: String) { if !quiet { print(s); fflush(stdout) } }
        var encoder: TextEmbedder?
        if let textEncoder {
            do { encoder = try loadTextEncoder(path: textEncoder) } catch { throw ValidationError("\(textEncoder): \(error)") }
            if textDim != 0 && textDim != encoder!.dim {
                throw ValidationError("--text-dim \(textDim) differs from the encoder's width \(encoder!.dim)")
            }
            c.textDim = encoder!.dim
        }
        do { try c.validate() } catch { throw ValidationError("\(error)") }

        let loadStart = Date()
        var loaded = try loadDataset(path: data, options: LoadOptions(itemText: c.textDim > 0, itemTextPath: itemText))
        if let m = maxUsers { loaded.dataset.users = Array(loaded.dataset.users.prefix(max(0, m))) }
        let ds = loaded.dataset
        say("data: \(ds.description); \(ds.users.count) users used (\(String(format: "%.1f", Date().timeIntervalSince(loadStart))) s)")

        var text: ItemTextFeatures?
        if let encoder {
            let cache = textCache ?? out + ".textcache"
            let start = Date()
            let tty = isatty(1) != 0
            setBLASThreads(1)   // fixed chunks on one BLAS thread: the same bits on every run
            text = try ItemTextFeatures.make(.embedder(encoder, cachePath: cache, batch: 32, progress: { done, total in
                guard !quiet else { return }
                let el = Date().timeIntervalSince(start)
                let line = String(format: "embedding item text: %d/%d (%.0f texts/s)", done, total, Double(done) / max(el, 1e-9))
                // A rewritten line on a terminal; every 512 texts in a log.
                if tty { print("\r" + line + "\u{1B}[K", terminator: done == total ? "\n" : ""); fflush(stdout) }
                else if done == total || done % 512 < 32 { say(line) }
            }), texts: ds.itemText, nItems: ds.nItems)
            say("item text: \(text!.itemsWithText) of \(ds.nItems) items embedded by \(encoder.fingerprint) (k = \(encoder.dim)), "
                + (text!.fromCache ? "from the cache \(cache)" : String(format: "%.1f s, cached in \(cache)", Date().timeIntervalSince(start))))
        }

        let trainer = try Trainer(dataset: ds, config: c, text: text)
        if !trainer.cold.isEmpty {
            say("cold-start protocol: \(trainer.cold.count) of \(ds.nItems) items held out of training (seed \(coldSeed))")
        }
        let ckpt = checkpoint ?? out + ".ckpt"
        if resume {
            try trainer.restore(checkpoint: try FileIO.readAll(path: ckpt))
            say("resumed from \(ckpt) after epoch \(trainer.epoch) (best val NDCG@10 \(fmt(trainer.bestNDCG)) at epoch \(trainer.bestEpoch))")
        }
        say("training: \(trainer.sequences.targetCount) targets/epoch, \(trainer.params.values.count) parameters, "
            + "fusion \(fusion.rawValue), loss \(loss.rawValue), d=\(dim) L=\(history) W=\(window) lanes=\(batch) threads=\(threads)")
        say("BLAS: OpenBLAS kernels \(BLASKernels.description)")
        let epochLog = try log.map { try EpochLog(path: $0, append: resume) }
        let bar = quiet ? nil : ProgressBar()
        var lossSecondsBefore = trainer.lossSeconds
        try trainer.run(checkpointPath: ckpt, log: epochLog, progressBar: bar?.enabled == true ? bar : nil) { r in
            let rate = Double(trainer.sequences.targetCount) / max(r.trainSeconds, 1e-9)
            // The loss/scoring part's share of the epoch (bench/compare.py prices its FLOPs by it).
            let lossPart = trainer.lossSeconds - lossSecondsBefore
            lossSecondsBefore = trainer.lossSeconds
            say("epoch \(r.epoch): loss \(fmt(r.trainLoss)), val NDCG@10 \(fmt(r.valNDCG10)) HR@10 \(fmt(r.valHR10)), "
                + String(format: "%.1f s (training %.1f s, %.0f events/s, loss/scoring part %.1f s; validation %.1f s)",
                         r.seconds, r.trainSeconds, rate, lossPart, r.seconds - r.trainSeconds))
        }
        let bytes = try trainer.exportBytes()
        try FileIO.writeAtomically(bytes, to: out)
        say("wrote \(out) (\(bytes.count) bytes): best epoch \(trainer.bestEpoch), val NDCG@10 \(fmt(trainer.bestNDCG)) HR@10 \(fmt(trainer.bestHR))")
        let model = try Model(bytes: bytes)
        if let beta = model.repeatBias { say("repeat term: β = \(fmt(Double(beta)))") }
        if !noTest {
            let rep = evaluate(CoreRanker(model: model), on: ds, split: .test, threads: threads)
            say("test (full ranking, \(rep.usersEvaluated) users): NDCG@10 \(fmt(rep.full.ndcg10)) HR@10 \(fmt(rep.full.hr10))")
            if let t = TimingBreakdown(report: rep, data: ds) { say("  " + t.summary()) }
            if !trainer.cold.isEmpty {
                let cr = evaluateColdStart(CoreRanker(model: model), on: ds, cold: trainer.cold, split: .test, threads: threads)
                say("test, cold-item targets (\(cr.model.usersEvaluated) users): NDCG@10 \(fmt(cr.model.full.ndcg10)) HR@10 \(fmt(cr.model.full.hr10)); "
                    + "MostPopular without cold items: NDCG@10 \(fmt(cr.popularity.full.ndcg10)) HR@10 \(fmt(cr.popularity.full.hr10))")
            }
        }
    }

    private func fmt(_ x: Double) -> String { String(format: "%.4f", x) }
}
