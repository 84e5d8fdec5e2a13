import Foundation

/// What a load read and kept. Printed by `lsrec data` and the trainer.
public struct LoadStats: Sendable, CustomStringConvertible {
    /// "ml-1m-timed", "ml-1m-full", "csv", "tsv", "synthetic", …
    public var format: String = ""
    public var files: [String] = []
    /// Every line of the interaction file, including header and blank lines.
    public var linesRead = 0
    public var headerLines = 0
    /// Empty (or whitespace-only) lines, skipped; they are not malformed.
    public var blankLines = 0
    /// Events in the data set (one per data line: nothing is filtered).
    public var eventsKept = 0
    /// Events whose timestamp is unknown (-1); they are ordered first within their user.
    public var untimedEvents = 0
    /// Repeated (user, item) pairs: events beyond the first for the same pair. They are KEPT
    /// (a sequence model sees re-consumption); this only counts them.
    public var duplicatePairs = 0
    /// Always false: loaders never deduplicate.
    public var deduplicated = false
    public var users = 0
    public var items = 0
    public var minEventsPerUser = 0
    public var medianEventsPerUser = 0
    public var maxEventsPerUser = 0
    /// Items with a text description / items without one (when item text was loaded).
    public var itemsWithText = 0
    public var itemsWithoutText = 0
    /// Wall time of the load, seconds.
    public var seconds = 0.0

    public init() {}

    public var description: String {
        var s = "data: \(format) from \(files.joined(separator: ", "))\n"
        s += "  lines read \(linesRead) (header \(headerLines), blank \(blankLines))\n"
        s += "  events kept \(eventsKept) (untimed \(untimedEvents)); repeated (user,item) pairs \(duplicatePairs), "
        s += deduplicated ? "removed\n" : "kept (no dedup)\n"
        s += "  users \(users), items \(items); events/user min \(minEventsPerUser) "
        s += "median \(medianEventsPerUser) max \(maxEventsPerUser)\n"
        if itemsWithText + itemsWithoutText > 0 {
            s += "  item text: \(itemsWithText) items with, \(itemsWithoutText) without\n"
        }
        s += "  load time " + String(format: "%.3f", seconds) + " s"
        return s
    }
}
