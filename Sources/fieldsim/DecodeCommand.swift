import ArgumentParser
import Foundation
import SyncWire

/// `fieldsim decode FILE`: any wire message — a binary frame, compressed or not, or its JSON
/// form — printed as its canonical JSON form.
struct DecodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Print a wire message (binary frame or JSON) as JSON.",
        discussion: "FILE is a path, or - for standard input. Exit status 2 when the bytes are not a message of this protocol, with the reason."
    )

    @Argument(help: "The message's file, or - for standard input.")
    var file: String

    func run() async throws {
        let bytes: [UInt8]
        if file == "-" {
            bytes = Array(FileHandle.standardInput.readDataToEndOfFile())
        } else {
            guard let data = FileManager.default.contents(atPath: file) else {
                FileHandle.standardError.write(Data("fieldsim: cannot read \(file)\n".utf8))
                throw ExitCode(CLIError.Kind.usage.rawValue)
            }
            bytes = Array(data)
        }
        let message: Message
        do {
            message = try Frame.decode(bytes)
        } catch let binary {
            do {
                message = try Frame.decode(json: bytes)
            } catch let json {
                let reason = bytes.first == UInt8(ascii: "{") ? json.message : binary.message
                FileHandle.standardError.write(Data("fieldsim: \(file) is not a FieldSync message: \(reason)\n".utf8))
                throw ExitCode(CLIError.Kind.refused.rawValue)
            }
        }
        print(Frame.json(message).printed)
    }
}
