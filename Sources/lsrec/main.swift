import ArgumentParser

/// `lsrec`: inspect weight files, train, evaluate, recommend, generate synthetic data.
struct LSRecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lsrec",
        abstract: "Long- and short-term interest recommender: train, evaluate, inspect, recommend.",
        subcommands: [TrainCommand.self, EvalCommand.self, RecommendCommand.self,
                      InspectCommand.self, SynthCommand.self, DataCommand.self, CompareCommand.self,
                      ConvertEncoderCommand.self])
}

BLASKernels.rerunIfMisdetected()
LSRecCommand.main()
