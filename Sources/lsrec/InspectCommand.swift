import ArgumentParser
import LSRecFormat

#if canImport(Glibc)
import Glibc
#endif

/// `lsrec inspect FILE`: validates a weight file and prints its header, metadata and tensors.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Validate a .lsrec weight file and print its header, metadata and tensor table.",
        discussion: "Exit status 0 when the file is valid; otherwise the lsrec_status code of the first problem found (e.g. 5 = checksum mismatch).")

    @Argument(help: "The .lsrec file to inspect.")
    var file: String

    @Flag(name: .customLong("no-verify"), help: "Skip checksum verification (structure is still checked).")
    var noVerify = false

    func run() throws {
        let w: WeightFile
        do {
            w = try WeightFile(path: file, verifyChecksums: !noVerify)
        } catch let e as LSRecError {
            fputs("lsrec inspect: \(file): \(e)\n", stderr)
            throw ExitCode(e.status.rawValue)
        }
        print(Self.render(w, path: file, verified: !noVerify), terminator: "")
    }

    /// The full report as text.
    static func render(_ w: WeightFile, path: String, verified: Bool) -> String {
        let h = w.header
        var out = ""
        out += "file              \(path)\n"
        out += "format_version    \(h.formatVersion)\n"
        out += "file_size         \(h.fileSize)\n"
        out += "metadata          offset \(h.metadataOffset), length \(h.metadataLength), \(h.metadataCount) entries\n"
        out += "directory         offset \(h.directoryOffset), length \(h.directoryLength), \(h.tensorCount) tensors\n"
        out += "header_crc        0x\(hex32(h.headerCRC))\n"
        out += "file_crc          0x\(hex32(h.fileCRC))\(verified ? "" : " (not verified)")\n"
        out += "fingerprint       \(fingerprintHex(w.fingerprint))\n"

        let dataBytes = w.tensors.reduce(0) { $0 + $1.byteLength }
        out += "tensor data       \(dataBytes) bytes\n\n"

        out += "metadata (\(w.metadata.count))\n"
        out += table(["KEY", "TYPE", "VALUE"],
                     w.metadata.map { [$0.key, $0.value.typeName, shorten($0.value.description, 72)] },
                     rightAligned: [])
        out += "\ntensors (\(w.tensors.count))\n"
        out += table(["NAME", "DTYPE", "SHAPE", "OFFSET", "BYTES", "CRC32C"],
                     w.tensors.map {
                         [$0.name, $0.dtype.description, "[" + $0.shape.map(String.init).joined(separator: ", ") + "]",
                          String($0.offset), String($0.byteLength), "0x" + hex32($0.crc)]
                     },
                     rightAligned: [3, 4])
        return out
    }

    /// Lays out rows under headers, columns padded to their widest cell (by character count).
    static func table(_ headers: [String], _ rows: [[String]], rightAligned: Set<Int>) -> String {
        var widths = headers.map(displayWidth)
        for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], displayWidth(c)) } }
        func line(_ cells: [String]) -> String {
            var s = "  "
            for (i, c) in cells.enumerated() {
                let pad = String(repeating: " ", count: max(0, widths[i] - displayWidth(c)))
                let cell = rightAligned.contains(i) ? pad + c : c + (i == cells.count - 1 ? "" : pad)
                s += cell + (i == cells.count - 1 ? "" : "  ")
            }
            return s + "\n"
        }
        return line(headers) + rows.map(line).joined()
    }

    /// Terminal columns of `s`: East Asian wide and emoji scalars count 2, combining marks 0.
    static func displayWidth(_ s: String) -> Int {
        s.unicodeScalars.reduce(0) { w, u in
            switch u.value {
            case 0x0300 ... 0x036F, 0x200B ... 0x200F, 0xFE00 ... 0xFE0F: return w
            case 0x1100 ... 0x115F, 0x2E80 ... 0xA4CF, 0xAC00 ... 0xD7A3, 0xF900 ... 0xFAFF,
                 0xFE30 ... 0xFE4F, 0xFF00 ... 0xFF60, 0xFFE0 ... 0xFFE6, 0x1F300 ... 0x1FAFF,
                 0x20000 ... 0x3FFFD: return w + 2
            default: return w + 1
            }
        }
    }

    /// `s` cut to at most `n` characters, with an ellipsis when cut.
    static func shorten(_ s: String, _ n: Int) -> String {
        s.count <= n ? s : String(s.prefix(n - 1)) + "…"
    }

    /// Eight lower-case hex digits.
    static func hex32(_ v: UInt32) -> String {
        let h = String(v, radix: 16)
        return String(repeating: "0", count: max(0, 8 - h.count)) + h
    }
}
