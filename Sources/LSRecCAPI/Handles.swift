import LSRecCore
import LSRecFormat

/// Heap boxes behind the opaque C handles. The tag catches a state passed where a model is
/// expected (and vice versa) — cheap, though it cannot catch every dangling pointer.
final class ModelBox {
    static let liveTag: UInt64 = 0x4C53_5245_434D_4F44  // "LSRECMOD"
    var tag = liveTag
    let model: Model
    init(_ model: Model) { self.model = model }
}

final class StateBox {
    static let liveTag: UInt64 = 0x4C53_5245_4353_5441  // "LSRECSTA"
    var tag = liveTag
    var state: UserState
    init(_ state: UserState) { self.state = state }
}

func retainHandle(_ box: AnyObject) -> OpaquePointer {
    OpaquePointer(Unmanaged.passRetained(box).toOpaque())
}

func modelBox(_ handle: OpaquePointer?, _ name: String = "model") throws -> ModelBox {
    guard let handle else { throw nullArgument(name) }
    let box = Unmanaged<ModelBox>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
    guard box.tag == ModelBox.liveTag else {
        throw LSRecError(.invalidArgument, "\(name) is not a live lsrec_model handle")
    }
    return box
}

func stateBox(_ handle: OpaquePointer?, _ name: String = "state") throws -> StateBox {
    guard let handle else { throw nullArgument(name) }
    let box = Unmanaged<StateBox>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
    guard box.tag == StateBox.liveTag else {
        throw LSRecError(.invalidArgument, "\(name) is not a live lsrec_state handle")
    }
    return box
}

/// `now` from the C API: unix seconds, or LSREC_NOW_LAST_EVENT (-1).
func requestTime(_ now: Int64) throws -> RequestTime {
    if now == -1 { return .lastEvent }
    guard now >= 0 else {
        throw LSRecError(.invalidArgument, "now = \(now) is negative (use LSREC_NOW_LAST_EVENT)")
    }
    return .at(now)
}
