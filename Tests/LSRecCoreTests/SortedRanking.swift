import XCTest
@testable import LSRecCore

extension XCTestCase {
    /// The reference ranking of the top-K tests: every score sorted by (score desc, index asc),
    /// minus `excluded`.
    func sortedRanking(_ scores: [Float], excluded: Set<Int> = []) -> [ScoredItem] {
        scores.enumerated().filter { !excluded.contains($0.offset) }
            .map { ScoredItem(index: $0.offset, score: $0.element) }
            .sorted { $0.score > $1.score || ($0.score == $1.score && $0.index < $1.index) }
    }
}
