extension ClientHello {
  /// Reads the extensions a fingerprint or the counters need; the others are only listed. False when
  /// one of those is malformed (a list whose length does not match its data).
  mutating func read(extension type: UInt16, _ data: ArraySlice<UInt8>) -> Bool {
    var reader = WireReader(data)
    switch type {
    case 0x002b:  // supported_versions: a one-byte length, two-byte versions
      guard let list = reader.vector8(), reader.isAtEnd, let versions = WireReader.u16List(list) else { return false }
      supportedVersions = versions
    case 0x000a:  // supported_groups
      guard let list = reader.vector16(), reader.isAtEnd, let groups = WireReader.u16List(list) else { return false }
      supportedGroups = groups
    case 0x000d:  // signature_algorithms
      guard let list = reader.vector16(), reader.isAtEnd, let schemes = WireReader.u16List(list) else { return false }
      signatureAlgorithms = schemes
    case 0x0010:  // application_layer_protocol_negotiation: a two-byte length, one-byte-length names
      guard let list = reader.vector16(), reader.isAtEnd else { return false }
      var names = WireReader(list)
      var protocols: [[UInt8]] = []
      while !names.isAtEnd {
        guard let name = names.vector8() else { return false }
        protocols.append(Array(name))
      }
      applicationProtocols = protocols
    default:
      break
    }
    return true
  }
}
