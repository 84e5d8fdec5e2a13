import ArgumentParser

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "eval", abstract: "(not yet implemented)")
    func run() throws { throw ValidationError("`lsrec eval` is not implemented yet") }
}
