/// A method of the contract as the code knows it, for dispatch tables and for the test that
/// compares the code with protocol/openrpc.json.
public struct RPCMethodDescription: Sendable, Hashable {
    /// The wire name.
    public var name: String
    /// Whether the read-only socket serves it.
    public var isReadOnly: Bool
    /// Parameter names in by-position order.
    public var parameters: [String]

    public init(name: String, isReadOnly: Bool, parameters: [String]) {
        self.name = name
        self.isReadOnly = isReadOnly
        self.parameters = parameters
    }
}
