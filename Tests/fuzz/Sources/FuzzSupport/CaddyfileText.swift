import Foundation

/// Caddyfile text from fuzzer bytes, or nil for text that could make `import` read beyond the empty
/// working directory the harness runs in (devices that never end, /proc, a parent directory): those
/// would test the file system, not the parser.
public func caddyfileText(_ bytes: UnsafeRawBufferPointer) -> String? {
  let text = String(decoding: bytes, as: UTF8.self)
  if text.contains("import"), text.contains("/") || text.contains("~") { return nil }
  return text
}

/// Runs the harness in a fresh empty directory, so a fuzzed `import *` finds nothing to read.
public func enterEmptyDirectory() {
  let path = NSTemporaryDirectory() + "edge-fuzz-\(getpid())"
  try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  _ = FileManager.default.changeCurrentDirectoryPath(path)
}

/// The environment `{$NAME}` placeholders see: fixed, so a crash reproduces anywhere.
public let fuzzEnvironment = ["HOST": "example.com", "PORT": "8080", "EMPTY": "", "SPACES": "a b  c", "BRACE": "{"]
