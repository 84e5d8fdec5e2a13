import XCTest
@testable import LSRecTrain

final class BaselineTests: XCTestCase {
    func testBPRMFBeatsMostPopularOnSynthetic() {
        var c = SyntheticData.Config(users: 300, items: 200, seed: 11)
        c.meanEventsPerUser = 30
        let data = SyntheticData.generate(c)
        let pop = evaluate(MostPopular(data: data), on: data, split: .test)
        var bc = BPRMF.Config()
        bc.dim = 16
        bc.epochs = 15
        let bpr = BPRMF(data: data, config: bc)
        XCTAssertLessThan(bpr.epochLoss.last!, bpr.epochLoss.first!)
        let rep = evaluate(bpr, on: data, split: .test, threads: 2)
        XCTAssertGreaterThan(rep.full.hr10, pop.full.hr10 + 0.05,
                             "BPR-MF \(rep.full.hr10) vs MostPopular \(pop.full.hr10)")
        XCTAssertGreaterThan(rep.fullExcludingSeen.hr10, pop.fullExcludingSeen.hr10 + 0.05)
    }

    func testBPRMFIsDeterministic() {
        var c = SyntheticData.Config(users: 50, items: 40, seed: 2)
        c.meanEventsPerUser = 10
        let data = SyntheticData.generate(c)
        var bc = BPRMF.Config()
        bc.dim = 8
        bc.epochs = 2
        let a = BPRMF(data: data, config: bc), b = BPRMF(data: data, config: bc)
        XCTAssertEqual(a.itemFactors, b.itemFactors)
        XCTAssertEqual(a.userFactors, b.userFactors)
    }
}
