/// The `*.` name that covers a server name: its first label replaced by `*` (`a.example.com` →
/// `*.example.com`). A wildcard covers exactly one label, so `b.a.example.com` is not covered by
/// `*.example.com`. Used wherever a name is looked up exactly, then by wildcard.
public enum WildcardName {
  /// nil for a name without a parent (`localhost`), one starting with a dot, or one that is a wildcard.
  public static func covering(_ serverName: String) -> String? {
    guard !serverName.hasPrefix("*."), let dot = serverName.utf8.firstIndex(of: UInt8(ascii: ".")),
      dot != serverName.utf8.startIndex
    else { return nil }
    return "*" + serverName[dot...]
  }
}
