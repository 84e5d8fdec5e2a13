import LSRecFormat
import LSRecText
#if canImport(Glibc)
import Glibc
#endif

/// The text-encoder section of include/lsrec.h: load an encoder file, tokenize, encode.
/// An encoder is immutable after load, so the encode functions may run on one handle from any
/// number of threads at once (each call allocates its own scratch).

final class EncoderBox {
    static let liveTag: UInt64 = 0x4C53_5245_4345_4E43  // "LSRECENC"
    var tag = liveTag  // first stored property (see `tag(of:)` in Handles.swift)
    let encoder: TextEncoder
    init(_ encoder: TextEncoder) { self.encoder = encoder }
}

func encoderBox(_ handle: OpaquePointer?, _ name: String = "enc") throws -> EncoderBox {
    guard let handle else { throw nullArgument(name) }
    guard tag(of: handle) == EncoderBox.liveTag else {
        throw LSRecError(.invalidArgument, "\(name) is not a live lsrec_encoder handle")
    }
    return Unmanaged<EncoderBox>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
}

/// A NUL-terminated UTF-8 argument as a String: INVALID_ARGUMENT for NULL or invalid UTF-8.
private func utf8Text(_ p: UnsafePointer<CChar>?, _ name: String) throws -> String {
    guard let p else { throw nullArgument(name) }
    guard let s = String(validatingCString: p) else {
        throw LSRecError(.invalidArgument, "\(name) is not valid UTF-8")
    }
    return s
}

@_cdecl("lsrec_encoder_load")
public func lsrec_encoder_load(_ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded("lsrec_encoder_load") {
        try loadHandle(path: path, into: out) { EncoderBox(try TextEncoder(path: $0)) }
    }
}

@_cdecl("lsrec_encoder_free")
public func lsrec_encoder_free(_ handle: OpaquePointer?) {
    guard let box = try? encoderBox(handle) else { return }
    box.tag = 0
    Unmanaged<EncoderBox>.fromOpaque(UnsafeRawPointer(handle!)).release()
}

@_cdecl("lsrec_encoder_dim")
public func lsrec_encoder_dim(_ handle: OpaquePointer?) -> Int32 {
    guard let box = try? encoderBox(handle) else { return -1 }
    return Int32(box.encoder.dim)
}

@_cdecl("lsrec_encoder_max_tokens")
public func lsrec_encoder_max_tokens(_ handle: OpaquePointer?) -> Int32 {
    guard let box = try? encoderBox(handle) else { return -1 }
    return Int32(box.encoder.maxTokens)
}

@_cdecl("lsrec_encoder_tokenize")
public func lsrec_encoder_tokenize(_ handle: OpaquePointer?, _ text: UnsafePointer<CChar>?,
                                   _ outIDs: UnsafeMutablePointer<Int32>?, _ cap: UInt,
                                   _ nOut: UnsafeMutablePointer<UInt>?) -> Int32 {
    guarded("lsrec_encoder_tokenize") {
        let enc = try encoderBox(handle).encoder
        let s = try utf8Text(text, "utf8")
        guard let nOut else { throw nullArgument("n_out") }
        let capacity = try size(cap, "cap")
        let ids = enc.tokenize(s)
        guard capacity >= ids.count else {
            nOut.pointee = UInt(ids.count)
            throw LSRecError(.bufferTooSmall, "cap = \(cap), the text has \(ids.count) tokens")
        }
        guard let outIDs else { throw nullArgument("out_ids") }
        write(ids, to: outIDs)
        nOut.pointee = UInt(ids.count)
    }
}

@_cdecl("lsrec_encode_text")
public func lsrec_encode_text(_ handle: OpaquePointer?, _ text: UnsafePointer<CChar>?,
                              _ out: UnsafeMutablePointer<Float>?, _ cap: UInt) -> Int32 {
    guarded("lsrec_encode_text") {
        let enc = try encoderBox(handle).encoder
        let s = try utf8Text(text, "utf8")
        let dst = try outputBuffer(out, "out", cap: cap, needed: enc.dim, holds: "the encoder writes \(enc.dim) floats")
        write(try enc.encode([s]), to: dst)
    }
}

@_cdecl("lsrec_encode_batch")
public func lsrec_encode_batch(_ handle: OpaquePointer?, _ texts: UnsafePointer<UnsafePointer<CChar>?>?, _ n: UInt,
                               _ out: UnsafeMutablePointer<Float>?, _ cap: UInt) -> Int32 {
    guarded("lsrec_encode_batch") {
        let enc = try encoderBox(handle).encoder
        let count = try size(n, "n")
        guard count > 0 else { return }
        guard let texts else { throw nullArgument("texts") }
        let (needed, overflow) = count.multipliedReportingOverflow(by: enc.dim)
        guard !overflow else { throw LSRecError(.invalidArgument, "n = \(n) is too large") }
        // Every text is checked before anything is computed or written.
        var strings: [String] = []
        strings.reserveCapacity(min(count, 1 << 16))  // n is the caller's word, not yet proven
        for i in 0 ..< count { strings.append(try utf8Text(texts[i], "texts[\(i)]")) }
        let dst = try outputBuffer(out, "out", cap: cap, needed: needed,
                                   holds: "n × dim = \(count) × \(enc.dim) = \(needed) floats are needed")
        write(try enc.encode(strings), to: dst)
    }
}
