#if canImport(Glibc)
    import Glibc
#endif

func currentDirectory() -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    guard getcwd(&buffer, buffer.count) != nil else { return "." }
    return String(cString: buffer)
}

/// Whether stderr is a terminal (progress bars only then).
var stderrIsTerminal: Bool { isatty(2) == 1 }
