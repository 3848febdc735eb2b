import EdgeACME
import Foundation

/// Certificates of a PEM chain, each as its own PEM block.
func pemBlocks(_ chain: String) -> [String] {
  var blocks: [String] = []
  var current: [Substring] = []
  for line in chain.split(separator: "\n", omittingEmptySubsequences: true) {
    current.append(line)
    if line.hasPrefix("-----END ") {
      blocks.append(current.joined(separator: "\n") + "\n")
      current = []
    }
  }
  return blocks
}

/// `openssl verify` of the chain's leaf against `rootPEM`, the rest of the chain as untrusted
/// intermediates. Returns openssl's output; throws unless it says OK.
@discardableResult
func verifyChain(_ chainPEM: String, rootPEM: String, in scratch: ScratchDirectory) async throws -> String {
  let blocks = pemBlocks(chainPEM)
  guard let leaf = blocks.first else { throw TestFailure("empty chain") }
  let root = try scratch.write("root-\(UUID().uuidString).pem", rootPEM)
  let leafFile = try scratch.write("leaf-\(UUID().uuidString).pem", leaf)
  let rest = try scratch.write("inter-\(UUID().uuidString).pem", blocks.dropFirst().joined())
  var arguments = ["verify", "-CAfile", root.path]
  if blocks.count > 1 { arguments += ["-untrusted", rest.path] }
  let result = try await run("/usr/bin/openssl", arguments + [leafFile.path])
  guard result.status == 0, result.output.contains(": OK") else { throw TestFailure("openssl verify: \(result.output)") }
  return result.output
}
