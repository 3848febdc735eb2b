import EdgeCaddyfile
import EdgeConfig
import Foundation
import FuzzSupport

/// The Caddyfile → configuration adapter and validation. A configuration it accepts must survive its own
/// JSON form (what `edge adapt` prints and `--config x.json` reads): decoded back, it is the same.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAdapter(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  _ = enterEmptyDirectoryOnce
  guard let text = caddyfileText(fuzzInput(data, size)) else { return 0 }
  guard let config = try? CaddyfileAdapter.adapt(text: text, filename: "Caddyfile", environment: fuzzEnvironment)
  else { return 0 }
  _ = try? config.validate()
  let json = config.jsonString(pretty: false)
  let decoded: EdgeConfig
  do {
    decoded = try EdgeConfig(json: json)
  } catch {
    fatalError("the adapted configuration's JSON does not load: \(error)\n\(json)")
  }
  invariant(decoded.jsonString(pretty: false) == json, "JSON round trip changed the configuration:\n\(json)")
  return 0
}

private let enterEmptyDirectoryOnce: Void = enterEmptyDirectory()
