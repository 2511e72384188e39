package import Corpora
import RNNCore
import RNNJSON

#if canImport(Glibc)
    import Glibc
#endif

/// Where training or evaluation text comes from, in the service's terms.
package enum CorpusRequest: Sendable {
    /// Text given in the request.
    case text(String)
    /// A file beneath one of `paths.corpus_directories`.
    case file(String)
    /// Every regular file beneath a folder of `paths.corpus_directories`.
    case folder(String)
    /// Generated Learning to Execute programs.
    case learningToExecute(LearningToExecuteCorpus.Options)
    /// A corpus plugin by name, with its parameters as text.
    case plugin(name: String, parameters: [String: String])
}

/// Opens a corpus anew (each epoch of a finite one starts from the beginning).
typealias CorpusOpener = @Sendable () throws(CorpusError) -> any CorpusSource

/// Where training text comes from: corpus specs to sources, and `corpus.list`.
extension ModelService {
    /// A corpus file opened beneath its allowed folder: no links, regular files only.
    static func openBeneath(_ folder: BeneathFolder, _ relative: String) throws(CorpusError) -> FileCorpus {
        do throws(ServiceError) {
            let (fd, _) = try folder.openRegularFile(relative, maxBytes: .max)
            return FileCorpus(descriptor: fd, name: folder.root + "/" + relative)
        } catch {
            throw CorpusError(error.message)
        }
    }

    /// A checked opener for `request`: paths inside allowed folders, plugins that exist,
    /// with parameters they declare.
    func corpusOpener(_ request: CorpusRequest) throws(ServiceError) -> CorpusOpener {
        switch request {
        case .text(let text):
            return { TextCorpus(text) }
        case .file(let file):
            let (folder, relative) = try BeneathFolder.locate(
                file, in: configuration.paths.corpusDirectories, what: "corpus")
            close(try folder.openRegularFile(relative, maxBytes: .max).fd)
            return { () throws(CorpusError) in try Self.openBeneath(folder, relative) }
        case .folder(let dir):
            let (folder, relative) = try BeneathFolder.locate(
                dir, in: configuration.paths.corpusDirectories, what: "corpus")
            guard try !folder.listRegularFiles(relative, recursive: true).files.isEmpty else {
                throw ServiceError(.invalidArgument, "the corpus folder \(dir) holds no regular files to train on")
            }
            return { () throws(CorpusError) in
                let files: [String]
                do throws(ServiceError) {
                    files = try folder.listRegularFiles(relative, recursive: true).files
                } catch {
                    throw CorpusError(error.message)
                }
                return try DirectoryCorpus(files: files, name: dir) { (path) throws(CorpusError) in
                    try Self.openBeneath(folder, path)
                }
            }
        case .learningToExecute(let options):
            do {
                _ = try LearningToExecuteCorpus(options)
            } catch {
                throw ServiceError(.invalidArgument, error.message)
            }
            return { () throws(CorpusError) in try LearningToExecuteCorpus(options) }
        case .plugin(let name, let values):
            let (plugins, _) = PluginCatalog.scan(configuration.paths.pluginDirectories)
            guard let plugin = plugins[name] else {
                throw ServiceError(
                    .invalidArgument,
                    "no corpus plugin \"\(name)\"; corpus.list (rnnctl corpora) shows those in paths.plugin_directories",
                    details: ["parameter": .string("corpus.plugin")])
            }
            do {
                _ = try plugin.arguments(values)
            } catch {
                throw ServiceError(.invalidArgument, error.message)
            }
            let limits = limits
            return { () throws(CorpusError) in
                try PluginCorpus(
                    plugin: plugin, parameters: values, seconds: limits.pluginSeconds, bytes: limits.pluginBytes,
                    idleSeconds: limits.pluginIdleSeconds)
            }
        }
    }

    /// Up to `limit` bytes of a corpus (a model's initial vocabulary comes from them).
    func corpusPrefix(_ request: CorpusRequest, limit: Int) async throws(ServiceError) -> String {
        let opener = try corpusOpener(request)
        return try await blocking { () throws(ServiceError) -> String in
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
                throw ServiceError(.corpusFailed, error.message)
            }
        }
    }

    /// The corpus plugins found in `paths.plugin_directories`, by name, and the problems
    /// with those that could not be read.
    package func corpusPlugins() async -> (plugins: [CorpusPlugin], problems: [String]) {
        let folders = configuration.paths.pluginDirectories
        let scanned = try? await blocking { () throws(ServiceError) in PluginCatalog.scan(folders) }
        let plugins = (scanned?.plugins ?? [:]).values.sorted { $0.description.name < $1.description.name }
        return (plugins, scanned?.problems ?? [])
    }
}
