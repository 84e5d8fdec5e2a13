import XCTest

extension XCTestCase {
    /// A float32 result of `start + Σ a·b` over `count` terms against the same sum in float64:
    /// within (count + slack)·2⁻²³·(|start| + Σ|a·b|), the rounding bound of a float32 sum of
    /// that many terms in any order. `term(j)` gives the j-th pair, already widened, so a caller
    /// can pass values that went through a narrower format first (binary16 rows).
    func assertNearFloat64Sum(_ got: Float, start: Float = 0, count: Int, slack: Int = 2,
                              _ term: (Int) -> (Double, Double), _ message: @autoclosure () -> String,
                              file: StaticString = #filePath, line: UInt = #line) {
        var exact = Double(start), magnitude = abs(Double(start))
        for j in 0..<count {
            let (a, b) = term(j)
            exact += a * b
            magnitude += abs(a * b)
        }
        let bound = Double(count + slack) * 0x1p-23 * magnitude + 1e-30
        XCTAssertLessThanOrEqual(abs(Double(got) - exact), bound, message(), file: file, line: line)
    }
}
