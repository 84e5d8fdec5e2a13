import Foundation
import XCTest
@testable import LSRecTrain

/// The ML-1M measurement driver, skipped unless LSREC_SASREC_ML1M=1 (it trains for minutes):
///
///     swift build -c release -Xswiftc -enable-testing --scratch-path .build-sasrec --build-tests
///     LSREC_SASREC_ML1M=1 nice .build-sasrec/release/lsrecPackageTests.xctest \
///         LSRecTrainTests.SASRecML1MTests
///
/// (Release tests need -enable-testing for the other test files' @testable imports. Run the
/// bundle directly: `nice swift test …` left the test process itself at nice 0.)
///
/// Data: LSREC_ML1M (default /work/shared/data/ml-1m/ratings_complete_users.dat.gz, ml-1m-timed).
/// Optional overrides of `SASRecConfig`: LSREC_SASREC_EPOCHS, _DIM, _FFN, _MAXLEN, _BLOCKS, _DROPOUT,
/// _LR, _BATCH, _LOSS (fullSoftmax | binaryCrossEntropy), _PATIENCE, _EVAL_EVERY, _VAL_USERS,
/// _SEED, _THREADS. Prints the training log and the validation and test tables.
final class SASRecML1MTests: XCTestCase {
    func testTrainAndEvaluateOnML1M() throws {
        let env = ProcessInfo.processInfo.environment
        guard env["LSREC_SASREC_ML1M"] == "1" else {
            throw XCTSkip("set LSREC_SASREC_ML1M=1 to train SASRec on ML-1M")
        }
        let path = env["LSREC_ML1M"] ?? "/work/shared/data/ml-1m/ratings_complete_users.dat.gz"
        let data = try loadDataset(path: path, options: LoadOptions(itemText: false)).dataset
        var c = SASRecConfig()
        func int(_ k: String) -> Int? { env["LSREC_SASREC_" + k].flatMap { Int($0) } }
        func dbl(_ k: String) -> Double? { env["LSREC_SASREC_" + k].flatMap { Double($0) } }
        if let v = int("EPOCHS") { c.maxEpochs = v }
        if let v = int("DIM") { c.dim = v; c.ffnDim = v }
        if let v = int("FFN") { c.ffnDim = v }
        if let v = int("MAXLEN") { c.maxLength = v }
        if let v = int("BLOCKS") { c.blocks = v }
        if let v = dbl("DROPOUT") { c.dropout = v }
        if let v = dbl("LR") { c.learningRate = v }
        if let v = int("BATCH") { c.batchSize = v }
        if let v = env["LSREC_SASREC_LOSS"] { c.loss = try XCTUnwrap(SASRecConfig.Loss(rawValue: v)) }
        if let v = int("PATIENCE") { c.patience = v }
        if let v = int("EVAL_EVERY") { c.evalEvery = v }
        if let v = int("VAL_USERS") { c.validationUsers = v }
        if let v = int("SEED") { c.seed = UInt64(v) }
        if let v = int("THREADS") { c.threads = v }
        print("data: \(path): \(data.users.count) users, \(data.nItems) items; \(LeaveOneOut.counts(data))")

        let cpu0 = Self.cpuSeconds()
        let model = trainSASRec(data, config: c) { print($0); fflush(stdout) }
        let cpu = Self.cpuSeconds() - cpu0
        XCTAssertGreaterThan(model.report.bestValidationNDCG10, 0)
        for split in [EvalSplit.validation, .test] {
            var rep = model.evaluate(on: data, split: split, threads: c.threads)
            rep.title = "SASRec (\(c.loss.rawValue), d=\(c.dim), n=\(c.maxLength), best epoch "
                + "\(model.report.bestEpoch) of \(model.report.epochs)) — \(split.rawValue)"
            print(rep.table())
        }
        print(String(format: "SASRec training: %d epochs (best %d), wall %.1f s, CPU %.1f s (user + system, all threads)",
                     model.report.epochs, model.report.bestEpoch, model.report.seconds, cpu))
    }

    /// User + system CPU time of this process so far (the machine is shared, so wall time alone
    /// says little about cost).
    static func cpuSeconds() -> Double {
        var u = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
        return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6
    }
}
