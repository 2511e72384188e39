import Corpora
import RNNCore
import RNNJSON
import RNNProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// Opens a corpus anew (each epoch of a finite one starts from the beginning).
typealias CorpusOpener = @Sendable () throws(CorpusError) -> any CorpusSource

/// Where training text comes from: corpus specs to sources, and `corpus.list`.
extension Handlers {
    /// A corpus file opened beneath its allowed folder: no links, regular files only.
    static func openBeneath(_ folder: BeneathFolder, _ relative: String) throws(CorpusError) -> FileCorpus {
        do throws(DaemonError) {
            let (fd, _) = try folder.openRegularFile(relative, maxBytes: .max)
            return FileCorpus(descriptor: fd, name: folder.root + "/" + relative)
        } catch {
            throw CorpusError(error.message)
        }
    }

    /// A checked opener for `spec`: paths inside allowed folders, plugins that exist, with
    /// parameters they declare.
    func corpusOpener(_ spec: CorpusSpec) throws(DaemonError) -> CorpusOpener {
        let kinds = [spec.text != nil, spec.file != nil, spec.dir != nil, spec.l2e != nil, spec.plugin != nil]
        guard kinds.filter({ $0 }).count == 1 else {
            throw invalid("corpus", "must have exactly one of \"text\", \"file\", \"dir\", \"l2e\" or \"plugin\"")
        }
        if spec.params != nil && spec.plugin == nil { throw invalid("corpus.params", "is only for plugins") }
        if let text = spec.text { return { TextCorpus(text) } }
        if let file = spec.file {
            let (folder, relative) = try BeneathFolder.locate(
                file, in: configuration.paths.corpusDirectories, what: "corpus")
            close(try folder.openRegularFile(relative, maxBytes: .max).fd)
            return { () throws(CorpusError) in try Self.openBeneath(folder, relative) }
        }
        if let dir = spec.dir {
            let (folder, relative) = try BeneathFolder.locate(
                dir, in: configuration.paths.corpusDirectories, what: "corpus")
            guard try !folder.listRegularFiles(relative, recursive: true).files.isEmpty else {
                throw DaemonError(.invalidParams, "the corpus folder \(dir) holds no regular files to train on")
            }
            return { () throws(CorpusError) in
                let files: [String]
                do throws(DaemonError) {
                    files = try folder.listRegularFiles(relative, recursive: true).files
                } catch {
                    throw CorpusError(error.message)
                }
                return try DirectoryCorpus(files: files, name: dir) { (path) throws(CorpusError) in
                    try Self.openBeneath(folder, path)
                }
            }
        }
        if let l2e = spec.l2e {
            var options = LearningToExecuteCorpus.Options()
            if let task = l2e.task { options.task = .init(task) }
            if let curriculum = l2e.curriculum { options.curriculum = .init(curriculum) }
            if let split = l2e.split { options.split = .init(split) }
            options.length = l2e.length ?? options.length
            options.nesting = l2e.nesting ?? options.nesting
            if let sequences = l2e.sequences { options.separateSequences = sequences == .separate }
            options.seed = UInt64(l2e.seed ?? 1)
            options.answerOnlyLoss = l2e.answerOnlyLoss
            options.reverseAnswer = l2e.reverseAnswer
            options.reverseInput = l2e.reverseInput
            options.doubleInput = l2e.doubleInput
            options.samples = l2e.samples
            let checked = options
            do {
                _ = try LearningToExecuteCorpus(checked)
            } catch {
                throw DaemonError(.invalidParams, error.message)
            }
            return { () throws(CorpusError) in try LearningToExecuteCorpus(checked) }
        }
        let name = spec.plugin ?? ""
        let (plugins, _) = PluginCatalog.scan(configuration.paths.pluginDirectories)
        guard let plugin = plugins[name] else {
            throw DaemonError(
                .invalidParams, "no corpus plugin \"\(name)\"; corpus.list shows those in paths.plugin_directories",
                details: ["parameter": .string("corpus.plugin")])
        }
        var values: [String: String] = [:]
        for (key, value) in spec.params?.objectValue ?? [:] {
            switch value {
            case .string(let s): values[key] = s
            case .number(let n): values[key] = n.description
            case .bool(let b): values[key] = b ? "true" : "false"
            default: throw invalid("corpus.params.\(key)", "must be a string, a number or a boolean")
            }
        }
        do {
            _ = try plugin.arguments(values)
        } catch {
            throw DaemonError(.invalidParams, error.message)
        }
        let limits = limits
        let parameters = values
        return { () throws(CorpusError) in
            try PluginCorpus(
                plugin: plugin, parameters: parameters, seconds: limits.pluginSeconds, bytes: limits.pluginBytes,
                idleSeconds: limits.pluginIdleSeconds)
        }
    }

    /// Up to `limit` bytes of a corpus (a model's initial vocabulary comes from them).
    func corpusPrefix(_ spec: CorpusSpec, limit: Int) async throws(DaemonError) -> String {
        let opener = try corpusOpener(spec)
        return try await blocking { () throws(DaemonError) -> String in
            do throws(CorpusError) {
                var source = try opener()
                defer { source.close() }
                var text = ""
                while text.utf8.count < limit,
                    let chunk = try source.next(maximumBytes: min(1 << 20, limit - text.utf8.count))
                {
                    text += chunk.text
                }
                return text
            } catch {
                throw DaemonError(.corpusFailed, error.message)
            }
        }
    }

    func corpusList() async -> CorpusCatalog {
        let folders = configuration.paths.pluginDirectories
        let scanned = try? await blocking { () throws(DaemonError) in PluginCatalog.scan(folders) }
        let plugins = (scanned?.plugins ?? [:]).values.sorted { $0.description.name < $1.description.name }.map {
            plugin in
            PluginInfo(
                name: plugin.description.name, description: plugin.description.description, path: plugin.path,
                parameters: plugin.description.parameters.map {
                    PluginParameter(name: $0.name, type: $0.type, default: $0.default, description: $0.description)
                })
        }
        return CorpusCatalog(
            builtins: ["text", "file", "dir", "l2e", "feed"], plugins: plugins, problems: scanned?.problems ?? [])
    }
}
