import LSRecCore
import LSRecFormat
#if canImport(Glibc)
import Glibc
#endif

/// Static C strings for versions and status texts (allocated once, never freed).
enum StaticText {
    static let version = strdup("0.2.0")!
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

@_cdecl("lsrec_model_load_memory")
public func lsrec_model_load_memory(_ buf: UnsafeRawPointer?, _ len: UInt, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded("lsrec_model_load_memory") {
        guard let out else { throw nullArgument("out") }
        out.pointee = nil
        let n = try size(len, "len")
        var bytes: [UInt8] = []
        if n > 0 {
            guard let buf else { throw nullArgument("buf") }
            bytes = Array(UnsafeRawBufferPointer(start: buf, count: n))
        }
        let model = try Model(bytes: bytes)
        bytes = []
        out.pointee = retainHandle(ModelBox(model))
        returnFreedMemory()
    }
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
