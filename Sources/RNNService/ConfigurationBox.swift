import NIOConcurrencyHelpers

/// The configuration in force, replaced whole on SIGHUP. Limits, allowed folders and
/// autosave take effect at once; the state and socket folders only at the next start.
package final class ConfigurationBox: Sendable {
    private let box: NIOLockedValueBox<DaemonConfiguration>
    /// The file it was read from, if any.
    package let path: String?
    /// Command-line overrides, reapplied after each reload.
    package let overrides: @Sendable (inout DaemonConfiguration) -> Void

    package init(
        _ configuration: DaemonConfiguration, path: String?,
        overrides: @escaping @Sendable (inout DaemonConfiguration) -> Void
    ) {
        box = NIOLockedValueBox(configuration)
        self.path = path
        self.overrides = overrides
    }

    package var current: DaemonConfiguration { box.withLockedValue { $0 } }

    /// Re-reads the file; on an error the old configuration stays in force.
    package func reload() throws(ConfigurationError) -> DaemonConfiguration {
        guard let path else { return current }
        var fresh = try DaemonConfiguration.load(path: path)
        overrides(&fresh)
        let old = current
        fresh.paths.stateDirectory = old.paths.stateDirectory ?? fresh.paths.stateDirectory
        fresh.paths.socketDirectory = old.paths.socketDirectory ?? fresh.paths.socketDirectory
        box.withLockedValue { $0 = fresh }
        return fresh
    }
}
