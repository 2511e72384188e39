#!/usr/bin/env python3
"""Turns protocol/openrpc.json, the contract, into Swift:

- Sources/RNNProtocol/Schemas+Generated.swift: one type per component schema (a String enum
  for `enum` schemas, a struct otherwise) that decodes and validates itself from JSON
  (`init(wire:at:)`: types, enums, minimum/maximum, exclusive bounds, lengths, item counts,
  patterns, defaults, unknown members) and encodes itself (`wire`).
- Sources/RNNProtocol/Methods+Generated.swift: per method its name, read-only flag,
  notification, Params (decoded and validated the same way, by name or by position) and
  Result; the `RPCService` protocol with one requirement per method; `RPCMethods.all`, the
  table dispatch uses.
- Sources/RNNClient/RNNClient+Generated.swift: one typed call per method.
- Sources/RNNProtocol/OpenRPCDocument+Generated.swift: the document for rpc.discover.

Every rule lives in the contract; the code has none of its own. Run after editing
openrpc.json (`make generate`); a test fails when the generated files are stale.

Usage: python3 protocol/generate_swift.py [--check]
"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
doc = json.load(open(os.path.join(ROOT, "protocol", "openrpc.json")))
SCHEMAS = doc["components"]["schemas"]

SWIFT_KEYWORDS = {"default", "case", "class", "enum", "func", "import", "in", "init", "let", "var", "repeat",
                  "return", "self", "struct", "switch", "where", "while", "none", "Type", "protocol"}


def camel(name, upper=False):
    parts = [p for p in name.replace("-", "_").replace(".", "_").split("_") if p]
    out = parts[0] + "".join(w[:1].upper() + w[1:] for w in parts[1:])
    if upper:
        out = out[:1].upper() + out[1:]
    return out


def ident(name):
    out = camel(name)
    return f"`{out}`" if out in SWIFT_KEYWORDS else out


def bare(name):
    return ident(name).strip("`")


def type_name(method):
    special = {"rpc": "RPC"}
    return "".join(
        special.get(part, part[:1].upper() + part[1:]) for part in method.replace("_", ".").split(".")
    )


def resolve(schema):
    """The schema a property means: its $ref target merged under its own keywords."""
    if "$ref" in schema:
        target = SCHEMAS[schema["$ref"].rsplit("/", 1)[1]]
        merged = dict(target)
        merged.update({k: v for k, v in schema.items() if k != "$ref"})
        return merged
    return schema


def swift_type(schema, nested_name=None):
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[1]
    t = schema.get("type")
    if t == "string":
        return nested_name if "enum" in schema and nested_name else "String"
    if t == "integer":
        return "Int"
    if t == "number":
        return "Double"
    if t == "boolean":
        return "Bool"
    if t == "array":
        return "[" + swift_type(schema["items"]) + "]"
    return "JSON"


def literal(value, schema):
    s = resolve(schema)
    if "enum" in s:
        return "." + ident(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(literal(v, s.get("items", {})) for v in value) + "]"
    return repr(value)


def swift_string(text):
    return json.dumps(text)


def checks(schema, var, indent):
    """Validation statements for a decoded value `var` at path `p`."""
    s = resolve(schema)
    out = []
    pad = " " * indent

    def rule(cond, name, message):
        out.append(f"{pad}if !({cond}) {{ throw RPCError.invalid(p, {swift_string(name)}, \"{message}\") }}")

    t = s.get("type")
    if t in ("integer", "number"):
        shown = f"\\(JSON.double({var}))" if t == "number" else f"\\({var})"
        if "minimum" in s:
            rule(f"{var} >= {s['minimum']}", "minimum", f"must be >= {s['minimum']}, got {shown}")
        if "exclusiveMinimum" in s:
            rule(f"{var} > {s['exclusiveMinimum']}", "exclusiveMinimum", f"must be > {s['exclusiveMinimum']}, got {shown}")
        if "maximum" in s:
            rule(f"{var} <= {s['maximum']}", "maximum", f"must be <= {s['maximum']}, got {shown}")
        if "exclusiveMaximum" in s:
            rule(f"{var} < {s['exclusiveMaximum']}", "exclusiveMaximum", f"must be < {s['exclusiveMaximum']}, got {shown}")
    if t == "string" and "enum" not in s:
        if "minLength" in s:
            rule(f"{var}.unicodeScalars.count >= {s['minLength']}", "minLength",
                 f"must have at least {s['minLength']} characters")
        if "maxLength" in s:
            rule(f"{var}.unicodeScalars.count <= {s['maxLength']}", "maxLength",
                 f"must have at most {s['maxLength']} characters")
        if "pattern" in s:
            shown = s.get("x-pattern-hint") or "match " + s["pattern"].replace("\\", "\\\\")
            rule(f"WirePattern.matches({var}, {swift_string(s['pattern'])})", "pattern",
                 f"must be {shown}, got \\({var}.debugDescription.prefix(80))")
    if t == "array":
        if "minItems" in s:
            rule(f"{var}.count >= {s['minItems']}", "minItems", f"must have at least {s['minItems']} items")
        if "maxItems" in s:
            rule(f"{var}.count <= {s['maxItems']}", "maxItems", f"must have at most {s['maxItems']} items")
        item_checks = checks(s["items"], "item", indent + 4)
        if item_checks:
            out.append(f"{pad}for (index, item) in {var}.enumerated() {{")
            out.append(f"{pad}    let p = p.appending(String(index))")
            out.extend(item_checks)
            out.append(f"{pad}}}")
    if t == "object" and "properties" not in s and "$ref" not in schema:
        rule(f"{var}.objectValue != nil", "type", f"must be an object, got \\({var}.kindName)")
    return out


def enum_type(name, values, doc_line, indent=""):
    lines = [f"{indent}/// {doc_line}",
             f"{indent}public enum {name}: String, Sendable, Hashable, CaseIterable, Codable, WireReadable {{"]
    for v in values:
        lines.append(f"{indent}    case {ident(v)} = {swift_string(v)}")
    lines.append("")
    lines.append(f"{indent}    public init(wire: JSON, at p: WirePath) throws(RPCError) {{")
    lines.append(f"{indent}        let text = try String(wire: wire, at: p)")
    lines.append(f"{indent}        guard let value = Self(rawValue: text) else {{")
    joined = ", ".join(values)
    lines.append(f"{indent}            throw RPCError.invalid(p, \"enum\", \"must be one of {joined}, got \\(text.debugDescription.prefix(80))\")")
    lines.append(f"{indent}        }}")
    lines.append(f"{indent}        self = value")
    lines.append(f"{indent}    }}")
    lines.append("")
    lines.append(f"{indent}    public init(reading reader: inout JSONReader) throws {{")
    lines.append(f"{indent}        guard let value = Self(rawValue: try reader.readString()) else {{ throw JSONReader.Mismatch() }}")
    lines.append(f"{indent}        self = value")
    lines.append(f"{indent}    }}")
    lines.append("")
    lines.append(f"{indent}    public var wire: JSON {{ .string(rawValue) }}")
    lines.append("")
    lines.append(f"{indent}    public func writeWire(into out: inout [UInt8]) {{ JSONWriter.writeString(rawValue, into: &out) }}")
    lines.append(f"{indent}}}")
    return lines


def struct(name, props, required, doc_line, strict, extra=None, indent="", readable=True):
    """A struct with validated decoding and encoding; `props` is [(wire name, schema)].
    `readable`: also decoded straight from text (what clients read: not params)."""
    extra = extra or []
    conformances = "WireStruct, WireReadable" if readable else "WireStruct"
    lines = [f"{indent}/// {doc_line}", f"{indent}public struct {name}: Sendable, Hashable, Codable, {conformances} {{"]
    body = list(extra)
    nested = []
    fields = []
    for pname, schema in props:
        s = resolve(schema)
        nested_name = None
        if s.get("type") == "string" and "enum" in s and "$ref" not in schema:
            nested_name = camel(pname, upper=True)
            nested += enum_type(nested_name, s["enum"], f"The values of `{pname}`.")
        t = swift_type(schema, nested_name)
        has_default = "default" in schema or ("$ref" not in schema and "default" in s)
        optional = pname not in required and not has_default
        fields.append((pname, schema, t, optional, has_default))
        desc = schema.get("description") or s.get("description")
        if desc:
            body.append(f"/// {desc}" + (f" Default: `{json.dumps(schema['default'])}`." if has_default else ""))
        body.append(f"public var {ident(pname)}: {t}{'?' if optional else ''}")
    wire_names = ", ".join(swift_string(p) for p, *_ in fields)
    body.append("")
    body.append("/// Wire names of the members, in by-position order.")
    body.append(f"public static let fields: [String] = [{wire_names}]")
    body.append("")
    body.append("/// Creates a value with every member.")
    args = []
    for pname, schema, t, optional, has_default in fields:
        if optional:
            args.append(f"{ident(pname)}: {t}? = nil")
        elif has_default:
            args.append(f"{ident(pname)}: {t} = {literal(schema['default'], schema)}")
        else:
            args.append(f"{ident(pname)}: {t}")
    body.append(f"public init({', '.join(args)}) {{")
    for pname, *_ in fields:
        body.append(f"    self.{bare(pname)} = {ident(pname)}")
    body.append("}")
    body.append("")
    body.append("public init(wire: JSON, at path: WirePath) throws(RPCError) {")
    body.append("    let members = try WireObject.members(of: wire, at: path)")
    if strict and fields:
        body.append("    var found = 0")
    for pname, schema, t, optional, has_default in fields:
        key = swift_string(pname)
        body.append("    do {")
        body.append(f"        let p = path.appending({key})")
        if optional or has_default:
            body.append(f"        if let raw = members[{key}] {{")
            if strict:
                body.append("            found += 1")
            body.append(f"            let v = try {t}(wire: raw, at: p)")
            body += settle(pname, schema, has_default, 8)
        else:
            body.append(f"        guard let raw = members[{key}] else {{ throw RPCError.missing(p) }}")
            if strict:
                body.append("        found += 1")
            body.append(f"        let v = try {t}(wire: raw, at: p)")
            body += checks(schema, "v", 8)
            body.append(f"        self.{bare(pname)} = v")
        body.append("    }")
    if strict:
        # Unknown members are looked for only when some member was not a field.
        count = "found" if fields else "0"
        body.append(f"    if members.count > {count} {{ try WireObject.refuseUnknown(members, allowed: Self.fields, at: path) }}")
    body.append("}")
    body.append("")
    if readable:
        body += direct_reader(fields, strict)
        body.append("")
    body.append("public init(from decoder: any Decoder) throws { try self.init(wire: JSON(from: decoder), at: .root) }")
    body.append("")
    body.append("public func encode(to encoder: any Encoder) throws { try wire.encode(to: encoder) }")
    body.append("")
    body.append("public var wire: JSON {")
    body.append(f"    var o = JSONObject(capacity: {len(fields)})")
    # In key order, so that each member is appended (JSONObject keeps its keys sorted).
    for pname, schema, t, optional, has_default in sorted(fields, key=lambda f: f[0].encode()):
        if optional:
            body.append(f"    if let v = {ident(pname)} {{ o[{swift_string(pname)}] = v.wire }}")
        else:
            body.append(f"    o[{swift_string(pname)}] = {ident(pname)}.wire")
    body.append("    return .object(o)")
    body.append("}")
    body.append("")
    body += direct_writer(fields)
    for n in nested:
        body.append(n)
    lines += [(indent + "    " + l) if l else l for l in body]
    lines.append(f"{indent}}}")
    return lines


def settle(pname, schema, has_default, indent):
    """Closes `if <decoded> {` for an optional or defaulted member: `v`'s checks and
    assignment, else the default (or nil)."""
    pad = " " * indent
    out = checks(schema, "v", indent + 4)
    out.append(f"{pad}    self.{bare(pname)} = v")
    out.append(f"{pad}}} else {{")
    out.append(f"{pad}    self.{bare(pname)} = {literal(schema['default'], schema) if has_default else 'nil'}")
    out.append(f"{pad}}}")
    return out


def direct_reader(fields, strict):
    """`init(reading:)`: the members as they come, then the same rules as `init(wire:at:)`.
    Its failures say nothing (the caller decodes the tree for the message), so the checks'
    path is a placeholder."""
    out = ["public init(reading reader: inout JSONReader) throws {"]
    for pname, schema, t, optional, has_default in fields:
        out.append(f"    var read{camel(pname, upper=True)}: {t}? = nil")
    out.append("    try reader.readObject { key, reader in")
    out.append("        switch key {")
    for pname, schema, t, optional, has_default in fields:
        out.append(f"        case {swift_string(pname)}: read{camel(pname, upper=True)} = try {t}(reading: &reader)")
    out.append("        default: " + ("throw JSONReader.Mismatch()" if strict else "_ = try reader.readValue()"))
    out.append("        }")
    out.append("    }")
    if any(checks(schema, "v", 0) for _, schema, *_ in fields):
        out.append("    let p = WirePath.root")
    for pname, schema, t, optional, has_default in fields:
        name = f"read{camel(pname, upper=True)}"
        if optional or has_default:
            out.append(f"    if let v = {name} {{")
            out += settle(pname, schema, has_default, 4)
        else:
            out.append(f"    guard let v = {name} else {{ throw JSONReader.Mismatch() }}")
            out += checks(schema, "v", 4)
            out.append(f"    self.{bare(pname)} = v")
    out.append("}")
    return out


def direct_writer(fields):
    """`writeWire(into:)`: the text `wire` would write, member by member in key order."""
    out = ["public func writeWire(into out: inout [UInt8]) {", "    out.append(UInt8(ascii: \"{\"))"]
    ordered = sorted(fields, key=lambda f: f[0].encode())
    # Whether a member was written is known while only required ones came before.
    known, flag = False, any(f[3] for f in ordered)
    if flag:
        out.append("    var more = false")
    for pname, schema, t, optional, has_default in ordered:
        key = swift_string(json.dumps(pname) + ":")
        pad = "        " if optional else "    "
        if optional:
            out.append(f"    if let v = {ident(pname)} {{")
        if known:
            out.append(f"{pad}out.append(UInt8(ascii: \",\"))")
        elif flag:
            out.append(f"{pad}if more {{ out.append(UInt8(ascii: \",\")) }}")
        out.append(f"{pad}JSONWriter.writeRaw({key}, into: &out)")
        out.append(f"{pad}{'v' if optional else ident(pname)}.writeWire(into: &out)")
        if optional:
            if flag and not known:
                out.append("        more = true")
            out.append("    }")
        else:
            if flag and not known:
                out.append("    more = true")
            known = True
    out.append("    out.append(UInt8(ascii: \"}\"))")
    out.append("}")
    return out


HEADER = ["// Generated by protocol/generate_swift.py from protocol/openrpc.json. Do not edit.", "",
          "// swift-format-ignore-file", ""]

outputs = {}


def emit(path, lines):
    outputs[os.path.join(ROOT, path)] = "\n".join(HEADER + lines)


# Component schemas.
out = ["public import RNNJSON", ""]
for name, schema in SCHEMAS.items():
    if "enum" in schema:
        out += enum_type(name, schema["enum"], schema.get("description", name))
    else:
        props = list(schema.get("properties", {}).items())
        out += struct(name, props, set(schema.get("required", [])), schema.get("description", name),
                      schema.get("additionalProperties") is False)
    out.append("")
emit("Sources/RNNProtocol/Schemas+Generated.swift", out)

# Methods, the service protocol and the dispatch table.
out = ["public import RNNJSON", ""]
requirements = []
table = []
stubs = []
for m in doc["methods"]:
    tn = type_name(m["name"])
    fn = camel(m["name"])
    ro = "true" if m.get("x-read-only") else "false"
    result = swift_type(m["result"]["schema"])
    note = m.get("x-notifications")
    out.append(f"/// `{m['name']}`: {m['summary']}")
    out.append(f"public enum {tn} {{")
    out.append(f"    /// The method name on the wire.")
    out.append(f"    public static let name = {swift_string(m['name'])}")
    out.append(f"    /// Whether the read-only socket serves it.")
    out.append(f"    public static let isReadOnly = {ro}")
    if note:
        out.append(f"    /// The notification sent while the request runs with `stream: true`.")
        out.append(f"    public static let notification = {swift_string(note['method'])}")
    props = [(p["name"], dict(p["schema"], **({"description": p["description"]} if "description" in p else {})))
             for p in m["params"]]
    required = {p["name"] for p in m["params"] if p.get("required")}
    body = struct("Params", props, required, "The parameters.", True, readable=False)
    out += ["    " + l if l else l for l in body]
    out.append(f"    /// The result.")
    out.append(f"    public typealias Result = {result}")
    out.append("}")
    out.append("")
    immediate = bool(m.get("x-immediate"))
    requirements.append(f"    /// `{m['name']}`: {m['summary']}")
    if immediate:
        requirements.append("    /// Answered on the connection's own thread from published state: it must not block.")
        requirements.append(f"    func {fn}(_ params: {tn}.Params, _ call: RPCCall) throws -> {tn}.Result")
    else:
        requirements.append(f"    func {fn}(_ params: {tn}.Params, _ call: RPCCall) async throws -> {tn}.Result")
    droppable = "true" if note and note.get("droppable") else "false"
    invoke = [f"        RPCMethod(",
              f"            name: {tn}.name, isReadOnly: {tn}.isReadOnly,",
              f"            notification: {('%s.notification' % tn) if note else 'nil'}, notificationsMayDrop: {droppable},",
              f"            parameters: {tn}.Params.fields,"]
    if immediate:
        invoke.append(f"            immediate: {{ service, params, call in")
        invoke.append(f"                try service.{fn}({tn}.Params(params: params), call.withoutStream)")
        invoke.append(f"            }}")
        invoke.append(f"        ) {{ service, params, call in")
        invoke.append(f"            try service.{fn}({tn}.Params(params: params), call.withoutStream).wire")
    else:
        invoke.append(f"            immediate: nil")
        invoke.append(f"        ) {{ service, params, call in")
        invoke.append(f"            let decoded = try {tn}.Params(params: params)")
        if note:
            invoke.append(f"            return try await service.{fn}(decoded, decoded.stream ? call : call.withoutStream).wire")
        else:
            invoke.append(f"            return try await service.{fn}(decoded, call.withoutStream).wire")
    invoke.append("        },")
    table += invoke
    has_params = bool(m["params"])
    arg = f"_ params: {tn}.Params" + ("" if any(p.get("required") for p in m["params"]) else " = .init()")
    stubs.append(f"    /// `{m['name']}`: {m['summary']}")
    if note:
        stubs.append(f"    /// `notification` receives each `{note['method']}` while it runs.")
        stubs.append(f"    public func {fn}({arg}, notification: ((JSON) -> Void)? = nil) throws -> {tn}.Result {{")
        stubs.append(f"        try call({tn}.name, params, decoding: {tn}.Result.self) {{ _, p in notification?(p) }}")
    else:
        stubs.append(f"    public func {fn}({arg}) throws -> {tn}.Result {{")
        stubs.append(f"        try call({tn}.name, params, decoding: {tn}.Result.self)")
    stubs.append("    }")
    stubs.append("")

out.append("/// The daemon's side of the contract: one requirement per method, each given its decoded and")
out.append("/// validated parameters. Dispatch goes through ``RPCMethods/all``.")
out.append("public protocol RPCService: Sendable {")
out += requirements
out.append("}")
out.append("")
out.append("extension RPCMethods {")
out.append("    /// Every method of the contract, in its order.")
out.append("    public static let all: [RPCMethod] = [")
out += table
out.append("    ]")
out.append("}")
out.append("")
emit("Sources/RNNProtocol/Methods+Generated.swift", out)

emit("Sources/RNNClient/RNNClient+Generated.swift",
     ["public import RNNJSON", "public import RNNProtocol", "",
      "/// A typed call per method of the contract.", "extension RNNClient {"] + stubs + ["}", ""])

# Error codes.
errors = doc["components"]["errors"]
out = ["extension RPCErrorCode {"]
for name, e in errors.items():
    out.append(f"    /// {e['message']}")
    out.append(f"    public static let {camel(name[:1].lower() + name[1:])} = RPCErrorCode(code: {e['code']}, "
               f"reason: {swift_string(e['data']['reason'])})")
out.append("")
out.append("    /// Every code of the contract.")
out.append("    public static let all: [RPCErrorCode] = [")
out += [f"        .{camel(name[:1].lower() + name[1:])}," for name in errors]
out.append("    ]")
out.append("}")
out.append("")
emit("Sources/RNNProtocol/Errors+Generated.swift", out)

# The protocol README's lists.
readme_path = os.path.join(ROOT, "protocol", "README.md")
readme = open(readme_path).read()


def replace_block(text, name, body):
    begin, end = f"<!-- generated: {name} -->", f"<!-- end: {name} -->"
    a, b = text.index(begin) + len(begin), text.index(end)
    return text[:a] + "\n" + body + "\n" + text[b:]


read_only = ", ".join(f"`{m['name']}`" for m in doc["methods"] if m.get("x-read-only"))
readme = replace_block(readme, "read-only methods", read_only)
table = ["| code | reason | when |", "|---|---|---|"]
table += [f"| {e['code']} | {e['data']['reason']} | {e['message']} |" for e in errors.values()]
readme = replace_block(readme, "errors", "\n".join(table))
outputs[readme_path] = readme

raw = open(os.path.join(ROOT, "protocol", "openrpc.json")).read()
assert '"""#' not in raw
emit("Sources/RNNProtocol/OpenRPCDocument+Generated.swift", [
    "/// protocol/openrpc.json as it was when this file was generated; `rpc.discover` returns it.",
    'public let openRPCDocumentText = #"""', raw.rstrip("\n"), '"""#', ""])

stale = []
for path, text in outputs.items():
    old = open(path).read() if os.path.exists(path) else None
    if old != text:
        stale.append(os.path.relpath(path, ROOT))
        if "--check" not in sys.argv:
            open(path, "w").write(text)
if "--check" in sys.argv:
    if stale:
        print("stale generated files (run python3 protocol/generate_swift.py):", ", ".join(stale))
        sys.exit(1)
else:
    for p in stale:
        print("wrote", p)
