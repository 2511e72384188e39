import RNNCore

/// The configuration written back as TOML: every key, folders resolved, so that
/// `rnnd --print-config` shows exactly what rnnd would run with (and can be saved as a file).
extension DaemonConfiguration {
    public func toml() -> String {
        func quoted(_ s: String) -> String {
            var out = "\""
            for scalar in s.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\t": out += "\\t"
                default:
                    if scalar.value < 0x20 || scalar.value == 0x7F {
                        out +=
                            "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                            + String(scalar.value, radix: 16)
                    } else {
                        out.unicodeScalars.append(scalar)
                    }
                }
            }
            return out + "\""
        }
        func list(_ items: [String]) -> String { "[" + items.map(quoted).joined(separator: ", ") + "]" }
        func number(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? "\(Int(x)).0" : "\(x)" }
        let l = limits
        return """
            [paths]
            state_directory = \(quoted(resolvedStateDirectory))
            socket_directory = \(quoted(resolvedSocketDirectory))
            corpus_directories = \(list(paths.corpusDirectories))
            import_directories = \(list(paths.importDirectories))
            export_directories = \(list(paths.exportDirectories))
            plugin_directories = \(list(paths.pluginDirectories))

            [limits]
            max_message_bytes = \(l.maxMessageBytes)
            max_connections = \(l.maxConnections)
            max_admin_connections = \(l.maxAdminConnections)
            idle_connection_seconds = \(number(l.idleConnectionSeconds))
            max_loaded_models = \(l.maxLoadedModels)
            idle_unload_seconds = \(number(l.idleUnloadSeconds))
            max_sample_length = \(l.maxSampleLength)
            max_jobs = \(l.maxJobs)
            max_snapshots = \(l.maxSnapshots)
            max_vocabulary = \(l.maxVocabulary)
            max_feed_bytes = \(l.maxFeedBytes)
            max_spool_bytes = \(l.maxSpoolBytes)
            max_parameters = \(l.maxParameters)
            max_import_bytes = \(l.maxImportBytes)
            max_samples = \(l.maxSamples)
            max_batch = \(l.maxBatch)
            max_evaluations = \(l.maxEvaluations)
            max_requests_per_connection = \(l.maxRequestsPerConnection)
            plugin_seconds = \(number(l.pluginSeconds))
            plugin_bytes = \(l.pluginBytes)
            plugin_idle_seconds = \(number(l.pluginIdleSeconds))

            [training]
            blas_threads = \(training.blasThreads)
            autosave_seconds = \(number(training.autosaveSeconds))
            feed_validation_fraction = \(number(training.feedValidationFraction))

            [sampling]
            weights = \(quoted(sampling.weights.rawValue))

            """
    }
}
