// swift-tools-version:5.9
// libFuzzer targets for lsrec (docs/RELIABILITY.md). A separate package so that the main
// Package.swift stays free of fuzzing flags; it depends on the main package by path.
//
//   scripts/fuzz.sh            (or `make fuzz FUZZ_SECONDS=60`) builds and runs every target.
//
// Build by hand (coverage instrumentation and ASan reach every Swift module, the library's too):
//   cd fuzz && swift build -c release --sanitize=fuzzer --sanitize=address --scratch-path ../.build-fuzz
import PackageDescription

// libFuzzer supplies main(); the targets export LLVMFuzzerTestOneInput with @_cdecl.
let fuzzTarget: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

let package = Package(
    name: "lsrec-fuzz",
    dependencies: [
        .package(name: "lsrec", path: ".."),
    ],
    targets: [
        // lsrec_model_load_memory on the raw input, then (checksums off) the structural parser
        // and the model's consistency checks, and scoring on whatever loads.
        .executableTarget(name: "FuzzModelLoad",
                          dependencies: [.product(name: "lsrec", package: "lsrec")],
                          swiftSettings: fuzzTarget),
        // lsrec_state_deserialize on the raw input and on a copy with length and CRC repaired,
        // then the restored state is used (update, score, top-k, serialise, rebase).
        .executableTarget(name: "FuzzStateDeserialize",
                          dependencies: [.product(name: "lsrec", package: "lsrec")],
                          swiftSettings: fuzzTarget),
        // Writes the seed corpora under fuzz/corpus (run without sanitizers; see scripts/fuzz.sh).
        .executableTarget(name: "FuzzSeeds",
                          dependencies: [.product(name: "lsrec", package: "lsrec")]),
    ]
)
