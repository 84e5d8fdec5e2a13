import LSRecCore
import LSRecFormat
#if canImport(Glibc)
import Glibc
#endif

/// Static C strings for versions and status texts (allocated once, never freed).
enum StaticText {
    static let version = strdup("0.5.0")!
    static let statuses: [UnsafeMutablePointer<CChar>] = LSRecStatus.allCases.map { strdup($0.text)! }
    static let unknownStatus = strdup("unknown status")!
    static let empty = strdup("")!
}

@_cdecl("lsrec_abi_version")
public func lsrec_abi_version() -> UInt32 { 1 }

@_cdecl("lsrec_version_string")
public func lsrec_version_string() -> UnsafePointer<CChar> { UnsafePointer(StaticText.version) }

@_cdecl("lsrec_status_str")
public func lsrec_status_str(_ status: Int32) -> UnsafePointer<CChar> {
    guard let s = LSRecStatus(rawValue: status), let i = LSRecStatus.allCases.firstIndex(of: s) else {
        return UnsafePointer(StaticText.unknownStatus)
    }
    return UnsafePointer(StaticText.statuses[i])
}

@_cdecl("lsrec_last_error")
public func lsrec_last_error() -> UnsafePointer<CChar> {
    LastError.current ?? UnsafePointer(StaticText.empty)
}

@_cdecl("lsrec_model_load")
public func lsrec_model_load(_ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded("lsrec_model_load") {
        // Other sources than regular files go through lsrec_model_load_memory.
        try loadHandle(path: path, into: out, notRegularHint: " (use lsrec_model_load_memory for other sources)") {
            ModelBox(try Model(path: $0))
        }
    }
}

@_cdecl("lsrec_model_load_ex")
public func lsrec_model_load_ex(_ path: UnsafePointer<CChar>?, _ params: UnsafeRawPointer?,
                                _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded("lsrec_model_load_ex") {
        out?.pointee = nil
        let options = try modelOptions(params)
        try loadHandle(path: path, into: out, notRegularHint: " (use lsrec_model_load_memory_ex for other sources)") {
            ModelBox(try Model(path: $0, options: options))
        }
    }
}

@_cdecl("lsrec_model_load_memory")
public func lsrec_model_load_memory(_ buf: UnsafeRawPointer?, _ len: UInt, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded("lsrec_model_load_memory") { try loadMemory(buf, len, ModelOptions(), out) }
}

@_cdecl("lsrec_model_load_memory_ex")
public func lsrec_model_load_memory_ex(_ buf: UnsafeRawPointer?, _ len: UInt, _ params: UnsafeRawPointer?,
                                       _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded("lsrec_model_load_memory_ex") {
        out?.pointee = nil
        try loadMemory(buf, len, try modelOptions(params), out)
    }
}

@_cdecl("lsrec_model_screens_items")
public func lsrec_model_screens_items(_ handle: OpaquePointer?) -> Int32 {
    guard let box = try? modelBox(handle) else { return -1 }
    return box.model.screensItems ? 1 : 0
}

/// The flags lsrec_model_params may hold (lsrec.h).
private let screenItemsFlag: UInt32 = 1

/// Reads an lsrec_model_params { uint32_t size; uint32_t flags; ... } (NULL: the defaults).
/// A struct from a newer header may be larger: its extra bytes must be zero (the defaults of
/// fields this library does not know), else the caller asked for something it cannot do.
private func modelOptions(_ params: UnsafeRawPointer?) throws -> ModelOptions {
    guard let params else { return ModelOptions() }
    let size = params.loadUnaligned(as: UInt32.self)
    guard size >= 8 else {
        throw LSRecError(.invalidArgument, "params->size is \(size), expected at least 8 (set it with lsrec_model_default_params())")
    }
    guard size <= 4096 else {
        throw LSRecError(.invalidArgument, "params->size is \(size): not an lsrec_model_params (use lsrec_model_default_params())")
    }
    let flags = params.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
    guard flags & ~screenItemsFlag == 0 else {
        throw LSRecError(.invalidArgument, "params->flags has unknown bits 0x\(String(flags & ~screenItemsFlag, radix: 16))")
    }
    for offset in 8..<Int(size) where params.load(fromByteOffset: offset, as: UInt8.self) != 0 {
        throw LSRecError(.invalidArgument,
                         "params sets fields this library (\(String(cString: StaticText.version))) does not know (byte \(offset) of \(size))")
    }
    return ModelOptions(screenItems: flags & screenItemsFlag != 0)
}

private func loadMemory(_ buf: UnsafeRawPointer?, _ len: UInt, _ options: ModelOptions,
                        _ out: UnsafeMutablePointer<OpaquePointer?>?) throws {
        guard let out else { throw nullArgument("out") }
        out.pointee = nil
        let n = try size(len, "len")
        var bytes: [UInt8] = []
        if n > 0 {
            guard let buf else { throw nullArgument("buf") }
            bytes = Array(UnsafeRawBufferPointer(start: buf, count: n))
        }
        let model = try Model(bytes: bytes, options: options)
        bytes = []
        out.pointee = retainHandle(ModelBox(model))
        returnFreedMemory()
}

@_cdecl("lsrec_model_free")
public func lsrec_model_free(_ handle: OpaquePointer?) {
    guard let box = try? modelBox(handle) else { return }
    box.tag = 0
    Unmanaged<ModelBox>.fromOpaque(UnsafeRawPointer(handle!)).release()
}

@_cdecl("lsrec_model_n_items")
public func lsrec_model_n_items(_ handle: OpaquePointer?) -> Int64 {
    guard let box = try? modelBox(handle) else { return -1 }
    return Int64(box.model.nItems)
}

@_cdecl("lsrec_model_dim")
public func lsrec_model_dim(_ handle: OpaquePointer?) -> Int32 {
    guard let box = try? modelBox(handle) else { return -1 }
    return Int32(box.model.dim)
}

@_cdecl("lsrec_model_item_ids")
public func lsrec_model_item_ids(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<Int64>?, _ cap: UInt) -> Int32 {
    guarded("lsrec_model_item_ids") {
        let model = try modelBox(handle).model
        let dst = try outputBuffer(out, "out", cap: cap, needed: model.nItems, holds: "the model has \(model.nItems) items")
        write(model.itemIDs, to: dst)
    }
}

@_cdecl("lsrec_model_meta")
public func lsrec_model_meta(_ handle: OpaquePointer?, _ key: UnsafePointer<CChar>?,
                             _ buf: UnsafeMutablePointer<CChar>?, _ cap: UInt) -> Int32 {
    var length: Int32 = -1
    let status = guarded("lsrec_model_meta") {
        let model = try modelBox(handle).model
        guard let key else { throw nullArgument("key") }
        let name = String(cString: key)
        guard let value = model.metadataText(name) else {
            throw LSRecError(.invalidArgument, "no metadata key '\(name)'")
        }
        let bytes = Array(value.utf8)
        let capacity = try size(cap, "cap")
        if capacity > 0 {
            guard let buf else { throw nullArgument("buf") }
            let n = min(bytes.count, capacity - 1)
            for i in 0..<n { buf[i] = CChar(bitPattern: bytes[i]) }
            buf[n] = 0
        }
        length = Int32(bytes.count)
    }
    return status == 0 ? length : -1
}
