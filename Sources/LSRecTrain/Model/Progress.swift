import Foundation

/// What the trainer reports while an epoch runs.
public struct TrainProgress: Sendable {
    public var epoch: Int
    public var epochs: Int
    public var batch: Int
    /// Estimated windows in this epoch.
    public var batches: Int
    /// Mean training loss so far in this epoch.
    public var loss: Double
    public var eventsPerSecond: Double
    /// Estimated seconds left in this epoch.
    public var eta: Double
}

/// A one-line progress bar redrawn with `\r` — only when stdout is a terminal (isatty(1));
/// otherwise it prints nothing, so logs and pipes stay clean.
public final class ProgressBar: @unchecked Sendable {
    public let enabled: Bool
    private var lastDraw = 0.0
    private var drawn = false

    public init(enabled: Bool = isatty(1) != 0) { self.enabled = enabled }

    /// Redraws at most ten times a second.
    public func update(_ p: TrainProgress) {
        guard enabled else { return }
        let now = Date().timeIntervalSinceReferenceDate
        if now - lastDraw < 0.1 && p.batch < p.batches { return }
        lastDraw = now
        let width = 24
        let frac = p.batches > 0 ? min(1, Double(p.batch) / Double(p.batches)) : 0
        let fill = Int(frac * Double(width))
        let bar = String(repeating: "#", count: fill) + String(repeating: "-", count: width - fill)
        let line = String(format: "epoch %d/%d [%@] batch %d/%d  loss %.4f  %.0f events/s  ETA %@",
                          p.epoch, p.epochs, bar, p.batch, p.batches, p.loss, p.eventsPerSecond,
                          Self.clock(p.eta))
        FileHandle.standardOutput.write(("\r" + line + "\u{1B}[K").data(using: .utf8)!)
        drawn = true
    }

    /// Ends the bar line (if one was drawn) so the next print starts clean.
    public func finishLine() {
        guard enabled, drawn else { return }
        FileHandle.standardOutput.write("\r\u{1B}[K".data(using: .utf8)!)
        drawn = false
    }

    static func clock(_ s: Double) -> String {
        guard s.isFinite, s >= 0 else { return "--:--" }
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60)
                         : String(format: "%d:%02d", t / 60, t % 60)
    }
}

/// The per-epoch CSV log: `epoch,train_loss,val_ndcg10,val_hr10,seconds`.
public struct EpochLog: Sendable {
    public let path: String

    /// Opens the log; `append` keeps earlier rows (resume), otherwise it starts fresh with a header.
    public init(path: String, append: Bool) throws {
        self.path = path
        let exists = FileManager.default.fileExists(atPath: path)
        if !append || !exists {
            try "epoch,train_loss,val_ndcg10,val_hr10,seconds\n".write(toFile: path, atomically: true, encoding: .utf8)
        }
    }

    public func append(_ r: EpochRecord) throws {
        let line = String(format: "%d,%.6f,%.6f,%.6f,%.2f\n", r.epoch, r.trainLoss, r.valNDCG10, r.valHR10, r.seconds)
        guard let h = FileHandle(forWritingAtPath: path) else {
            throw TrainError.invalidConfig("cannot open log \(path) for writing")
        }
        defer { try? h.close() }
        try h.seekToEnd()
        try h.write(contentsOf: line.data(using: .utf8)!)
    }
}
