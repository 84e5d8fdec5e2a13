import LSRecTrain

/// The sentence encoder behind `lsrec train --text-encoder`, as the trainer's `TextEmbedder`.
/// (Until the LSRecText encoder target is part of this build, there is none.)
func loadTextEncoder(path: String) throws -> TextEmbedder {
    throw TrainError.invalidConfig("this build of lsrec has no sentence encoder (LSRecText)")
}
