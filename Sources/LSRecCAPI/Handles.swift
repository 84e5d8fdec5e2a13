import LSRecCore
import LSRecFormat

/// Heap boxes behind the opaque C handles. The tag catches a state passed where a model is
/// expected (and vice versa) and most double frees — cheap, though it cannot catch every
/// dangling pointer. `tag` must stay the first stored property (see `tag(of:)`).
final class ModelBox {
    static let liveTag: UInt64 = 0x4C53_5245_434D_4F44  // "LSRECMOD"
    var tag = liveTag
    let model: Model
    init(_ model: Model) { self.model = model }
}

final class StateBox {
    static let liveTag: UInt64 = 0x4C53_5245_4353_5441  // "LSRECSTA"
    var tag = liveTag  // first stored property (see `tag(of:)`)
    var state: UserState
    /// The model that made the state. Holding it keeps the model's memory alive for as long as
    /// any of its states exist (so a state outliving lsrec_model_free is still safe to free,
    /// serialise or rebase) and lets lsrec_state_rebase map the state's items to external ids.
    let model: Model
    init(_ state: UserState, of model: Model) { self.state = state; self.model = model }
}

func retainHandle(_ box: AnyObject) -> OpaquePointer {
    OpaquePointer(Unmanaged.passRetained(box).toOpaque())
}

/// The tag of a handle, read as plain memory *before* a Swift reference to the box is formed:
/// turning a freed (double `_free`) or foreign pointer into a reference would make the runtime
/// retain/release it, i.e. write to freed memory. A native Swift object is a two-word header
/// (metadata, reference counts) followed by its stored properties; `tag` is the first of them.
@inline(__always)
func tag(of handle: OpaquePointer) -> UInt64 {
    UnsafeRawPointer(handle).load(fromByteOffset: 2 * MemoryLayout<Int>.size, as: UInt64.self)
}

func modelBox(_ handle: OpaquePointer?, _ name: String = "model") throws -> ModelBox {
    guard let handle else { throw nullArgument(name) }
    guard tag(of: handle) == ModelBox.liveTag else {
        throw LSRecError(.invalidArgument, "\(name) is not a live lsrec_model handle")
    }
    return Unmanaged<ModelBox>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
}

func stateBox(_ handle: OpaquePointer?, _ name: String = "state") throws -> StateBox {
    guard let handle else { throw nullArgument(name) }
    guard tag(of: handle) == StateBox.liveTag else {
        throw LSRecError(.invalidArgument, "\(name) is not a live lsrec_state handle")
    }
    return Unmanaged<StateBox>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
}

/// `now` from the C API: unix seconds, or LSREC_NOW_LAST_EVENT (-1).
func requestTime(_ now: Int64) throws -> RequestTime {
    if now == -1 { return .lastEvent }
    guard now >= 0 else {
        throw LSRecError(.invalidArgument, "now = \(now) is negative (use LSREC_NOW_LAST_EVENT)")
    }
    return .at(now)
}
