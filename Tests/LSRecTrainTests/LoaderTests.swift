import XCTest
@testable import LSRecTrain

final class LoaderTests: XCTestCase {
    var dir: TempDir!
    override func setUp() { dir = TempDir() }
    override func tearDown() { dir.cleanup() }

    /// Items of a user as external ids.
    private func externalItems(_ d: Dataset, user: Int) -> [Int64] { d.users[user].items.map { d.itemIDs[Int($0)] } }

    func testMovieLensTimedGzipOrdersByTimeStableAndSortsIds() throws {
        // User 2 appears first in the file; users come out sorted by id. Ties keep file order.
        let p = dir.writeGz("ratings_complete_users.dat.gz", """
        2::50::3::300
        1::30::5::200
        1::10::4::100
        1::20::3::200
        2::10::1::100

        """)
        let l = try loadDataset(path: p)
        XCTAssertEqual(l.stats.format, "ml-1m-timed")
        XCTAssertEqual(l.stats.linesRead, 5)
        XCTAssertEqual(l.stats.eventsKept, 5)
        XCTAssertEqual(l.stats.users, 2)
        XCTAssertEqual(l.stats.items, 4)
        let d = l.dataset
        XCTAssertEqual(d.itemIDs, [10, 20, 30, 50])          // dense index = rank of sorted id
        XCTAssertEqual(d.users.map(\.userID), [1, 2])
        XCTAssertEqual(externalItems(d, user: 0), [10, 30, 20]) // 30 and 20 tie at 200: file order
        XCTAssertEqual(d.users[0].timestamps, [100, 200, 200])
        XCTAssertEqual(d.users[1].items, [0, 3])
        XCTAssertNil(d.itemText)
    }

    func testMoviesDatIsDecodedAsLatin1() throws {
        // "Café (1993)" with é as the single latin-1 byte 0xE9 (invalid UTF-8).
        var bytes = Array("1::Toy Story (1995)::Animation|Children's|Comedy\n2::Caf".utf8)
        bytes += [0xE9] + Array(" (1993)::Comedy|Drama\n".utf8)
        dir.write("movies.dat", bytes: bytes)
        dir.writeGz("ratings_complete_users.dat.gz", "1::2::5::10\n1::1::4::20\n1::3::4::30\n")
        let l = try loadDataset(path: dir.path)
        XCTAssertEqual(l.dataset.itemText, ["Toy Story (1995) Animation|Children's|Comedy",
                                            "Café (1993) Comedy|Drama", ""]) // 3 has no movie line
        XCTAssertEqual(l.stats.itemsWithText, 2)
        XCTAssertEqual(l.stats.itemsWithoutText, 1)
        XCTAssertEqual(decodeLatin1([0x4B, 0xE5, 0x64]), "Kåd")
    }

    func testFullVariantPutsUntimedEventsFirstInFileOrder() throws {
        dir.writeGz("ratings_merged.csv.gz", """
        user_id,movie_id,rating,timestamp
        7,10,5,100
        7,11,4,-1
        7,12,3,50
        7,13,4,-1
        8,10,3,-1

        """)
        dir.writeGz("ratings_complete_users.dat.gz", "7::10::5::100\n7::12::3::50\n")
        dir.write("movies.dat", "10::A (1990)::Drama\n11::B (1991)::Comedy\n12::C::X\n13::D::Y\n")
        let full = try loadDataset(path: dir.path, options: LoadOptions(movieLens: .full))
        XCTAssertEqual(full.stats.format, "ml-1m-full")
        XCTAssertEqual(full.stats.headerLines, 1)
        XCTAssertEqual(full.stats.untimedEvents, 3)
        XCTAssertEqual(externalItems(full.dataset, user: 0), [11, 13, 12, 10])
        XCTAssertEqual(full.dataset.users[0].timestamps, [-1, -1, 50, 100])
        XCTAssertEqual(full.dataset.itemText?[1], "B (1991) Comedy")
        let timed = try loadDataset(path: dir.path) // default: timed
        XCTAssertEqual(timed.stats.format, "ml-1m-timed")
        XCTAssertEqual(externalItems(timed.dataset, user: 0), [12, 10])
        // The merged file given directly is recognised by name.
        let direct = try loadDataset(path: dir.file("ratings_merged.csv.gz"))
        XCTAssertEqual(direct.stats.format, "ml-1m-full")
        XCTAssertEqual(direct.stats.users, 2)
    }

    func testMalformedLinesAreReportedWithFileAndLineNumbers() throws {
        let p = dir.write("log.csv", """
        user,item,timestamp
        1,2,100
        1,x,200
        1,3
        2,4,-5
        2,5,300,4,9
        2,6,400

        """)
        XCTAssertThrowsError(try loadDataset(path: p)) { error in
            guard case let DataLoadError.malformed(path, count, examples) = error else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(path, p)
            XCTAssertEqual(count, 4)
            XCTAssertEqual(examples.map(\.line), [3, 4, 5, 6])
            XCTAssertEqual(examples.map(\.file), ["log.csv", "log.csv", "log.csv", "log.csv"])
            XCTAssertTrue(examples[0].reason.contains("item id"))
            XCTAssertTrue(examples[1].reason.contains("fields"))
            XCTAssertTrue("\(error)".contains("log.csv:3:"))
        }
    }

    func testBadFirstLineIsMalformedNotAHeader() {
        // Only a line with no numeric field is a header; "1,x,10" is a broken data line.
        let p = dir.write("nohdr.csv", "1,x,10\n1,2,20\n")
        XCTAssertThrowsError(try loadDataset(path: p)) { error in
            guard case let DataLoadError.malformed(_, count, ex) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(count, 1)
            XCTAssertEqual(ex.first?.line, 1)
        }
    }

    func testErrorListsFirstFewAndCountsAll() throws {
        var text = ""
        for i in 0..<25 { text += "1::\(i)::oops\n" }
        let p = dir.write("bad.dat", text)
        XCTAssertThrowsError(try loadDataset(path: p)) { error in
            guard case let DataLoadError.malformed(_, count, examples) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(count, 25)
            XCTAssertEqual(examples.count, 10)
            XCTAssertTrue("\(error)".contains("and 15 more"))
        }
    }

    func testTimedFormatRejectsUnknownTime() {
        let p = dir.writeGz("ratings_complete_users.dat.gz", "1::2::5::10\n1::3::5::-1\n")
        XCTAssertThrowsError(try loadMovieLensTimed(path: p, moviesPath: nil)) { error in
            guard case let DataLoadError.malformed(_, count, ex) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(count, 1)
            XCTAssertEqual(ex.first?.line, 2)
        }
    }

    func testGenericTSVWithoutHeaderCRLFBlankLinesAndRepeats() throws {
        let p = dir.write("events.tsv", "5\t100\t30\r\n5\t100\t10\r\n\r\n6\t200\t20\r\n5\t101\t20\r\n")
        let l = try loadDataset(path: p)
        XCTAssertEqual(l.stats.format, "tsv")
        XCTAssertEqual(l.stats.linesRead, 5)
        XCTAssertEqual(l.stats.blankLines, 1)
        XCTAssertEqual(l.stats.eventsKept, 4)
        XCTAssertEqual(l.stats.duplicatePairs, 1)  // (5, 100) twice: counted, kept
        XCTAssertFalse(l.stats.deduplicated)
        XCTAssertEqual(externalItems(l.dataset, user: 0), [100, 101, 100])
        XCTAssertTrue(l.stats.description.contains("repeated (user,item) pairs 1"))
    }

    func testGenericCSVHeaderColumnsByNameAndGzip() throws {
        let p = dir.writeGz("log.csv.gz", "rating,item_id,user_id,timestamp\n4.5,9,1,20\n3,8,1,10\n")
        let l = try loadDataset(path: p)
        XCTAssertEqual(l.stats.format, "csv")
        XCTAssertEqual(externalItems(l.dataset, user: 0), [8, 9])
        XCTAssertEqual(l.dataset.users[0].userID, 1)
        // Positional, no header, 4 columns: user,item,timestamp,rating.
        let q = dir.write("plain.csv", "1,9,20,5\n1,8,10,4\n")
        XCTAssertEqual(externalItems(try loadDataset(path: q).dataset, user: 0), [8, 9])
    }

    func testLinesAcrossReadBufferBoundaries() throws {
        // ~1.5 MB, more than the 1 MiB read buffer, so lines straddle chunk boundaries.
        var text = "user,item,timestamp\n"
        let n = 70_000
        text.reserveCapacity(n * 22)
        for i in 0..<n { text += "\(i % 97),\(1_000_000 + i % 1013),\(1_600_000_000 + i)\n" }
        let l = try loadDataset(path: dir.writeGz("big.csv.gz", text))
        XCTAssertEqual(l.stats.eventsKept, n)
        XCTAssertEqual(l.stats.users, 97)
        XCTAssertEqual(l.stats.items, 1013)
        let plain = try loadDataset(path: dir.write("big.csv", text))
        XCTAssertEqual(plain.dataset.users.map(\.items), l.dataset.users.map(\.items))
    }

    func testTruncatedGzipIsAnError() throws {
        var text = ""
        for i in 0..<5000 { text += "\(i % 7),\(i),\(i)\n" }
        let p = dir.writeGz("cut.csv.gz", text)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: p))
        let cut = dir.write("cut2.csv.gz", bytes: Array(bytes.prefix(bytes.count / 2)))
        XCTAssertThrowsError(try loadDataset(path: cut)) { error in
            guard case DataLoadError.readFailed = error else { return XCTFail("\(error)") }
        }
    }

    func testMissingPathAndEmptyFile() {
        XCTAssertThrowsError(try loadDataset(path: dir.file("nope.csv")))
        XCTAssertThrowsError(try loadDataset(path: dir.write("empty.csv", "\n\n")))
        XCTAssertThrowsError(try loadDataset(path: dir.write("header-only.csv", "user,item,timestamp\n")))
        XCTAssertThrowsError(try loadDataset(path: dir.path)) // a directory without ML-1M files
    }
}
