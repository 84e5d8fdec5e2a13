import ArgumentParser

struct RecommendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "recommend", abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("`lsrec recommend` is not implemented yet") }
}
