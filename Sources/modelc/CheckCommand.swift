import Foundation
import ModelcCore

enum CheckCommand {
    static func run(_ args: [String]) -> Int32 {
        FileHandle.standardError.write(Data("modelc check: not built yet\n".utf8))
        return 1
    }
}
