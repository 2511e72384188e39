import CSystemd
public import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// A swift-log handler that writes structured entries to the systemd journal with
/// `sd_journal_sendv`: MESSAGE, PRIORITY, CODE_FILE/LINE/FUNC, SYSLOG_IDENTIFIER, and each
/// metadata key as an `RNND_` field (RNND_MODEL, RNND_JOB, RNND_PEER, ...).
public struct JournalLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let identifier: String

    public init(identifier: String = "rnnd") { self.identifier = identifier }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = [
            "MESSAGE=\(event.message)", "PRIORITY=\(syslogPriority(event.level))", "CODE_FILE=\(event.file)",
            "CODE_LINE=\(event.line)", "CODE_FUNC=\(event.function)", "SYSLOG_IDENTIFIER=\(identifier)",
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            fields.append("RNND_\(journalFieldName(key))=\(value)")
        }
        let strings = fields.map { strdup($0) }
        defer { strings.forEach { free($0) } }
        var vectors = strings.map { iovec(iov_base: UnsafeMutableRawPointer($0), iov_len: strlen($0!)) }
        _ = sd_journal_sendv(&vectors, Int32(vectors.count))
    }
}

/// A swift-log handler for stderr with `<N>` syslog priority prefixes, which journald and
/// most log collectors understand; used when there is no journal to talk to.
public struct PriorityPrefixLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info

    public init() {}

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 })
        let extra =
            all.isEmpty
            ? "" : " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let line = "<\(syslogPriority(event.level))>\(event.message)\(extra)\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
    }
}

/// Whether this process should log to the journal: systemd connected our stderr to it
/// (`JOURNAL_STREAM`) and its socket exists.
public var journalIsAvailable: Bool {
    getenv("JOURNAL_STREAM") != nil && access("/run/systemd/journal/socket", W_OK) == 0
}

func syslogPriority(_ level: Logger.Level) -> Int {
    switch level {
    case .trace, .debug: 7
    case .info: 6
    case .notice: 5
    case .warning: 4
    case .error: 3
    case .critical: 2
    }
}

/// A journal field name: upper case letters, digits and underscores.
func journalFieldName(_ key: String) -> String {
    String(key.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
}
