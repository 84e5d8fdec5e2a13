import ArgumentParser

struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "synth", abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("`lsrec synth` is not implemented yet") }
}
