// swift-tools-version:5.9
import PackageDescription

let package = Package(
    name: "lsrec",
    products: [
        // The embeddable C ABI: liblsrec.so, declared by include/lsrec.h.
        .library(name: "lsrec", type: .dynamic, targets: ["LSRecCAPI"]),
        // The `lsrec` command-line tool (SwiftPM cannot give two products one name; scripts install it as `lsrec`).
        .executable(name: "lsrec-cli", targets: ["LSRecCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // OpenBLAS through its CBLAS header (Debian: libopenblas-dev).
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        // zlib, for reading .gz interaction logs in the trainer (Debian: zlib1g-dev).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Weight-file reader/writer, status codes, checksums. Glibc only.
        .target(name: "LSRecFormat"),
        // Hand-written C kernels for the request paths (row dot products, AVX2 with a portable fallback).
        .target(name: "LSRecKernels"),
        // Model maths: item matrix, LSTM step, attention, gate, scoring, top-K, state blobs. Glibc only.
        .target(name: "LSRecCore", dependencies: ["LSRecFormat", "LSRecKernels", "CBLAS"]),
        // Text encoder: safetensors reader, BERT WordPiece tokenizer, MiniLM forward pass. Glibc only.
        .target(name: "LSRecText", dependencies: ["LSRecFormat", "CBLAS"]),
        // The only target with @_cdecl exports and raw pointers from hosts.
        .target(name: "LSRecCAPI", dependencies: ["LSRecCore", "LSRecFormat", "LSRecText", "LSRecKernels"]),
        // Trainer: data loading, batched forward/backward, loss, optimiser, evaluation, baselines.
        .target(name: "LSRecTrain", dependencies: ["LSRecCore", "LSRecFormat", "CBLAS", "CZlib"]),
        // Command-line tool `lsrec`: inspect, train, eval, recommend, synth.
        .executableTarget(name: "LSRecCLI", dependencies: [
            "LSRecFormat", "LSRecCore", "LSRecTrain", "LSRecText", "LSRecKernels",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Sources/lsrec"),
        .testTarget(name: "LSRecFormatTests", dependencies: ["LSRecFormat"]),
        .testTarget(name: "LSRecCoreTests", dependencies: ["LSRecCore", "LSRecFormat", "LSRecKernels"]),
        .testTarget(name: "LSRecTextTests", dependencies: ["LSRecText", "LSRecFormat"]),
        .testTarget(name: "LSRecTrainTests", dependencies: ["LSRecTrain", "LSRecCore", "LSRecFormat"]),
    ]
)
