internal import CEdgeShims
internal import COpenSSL

extension X509Certificate {
  /// Adds the v3 extensions `profile.role` calls for, the key identifiers, and the subjectAltName.
  /// The subject key must already be set (the key identifiers hash it).
  func addExtensions(for profile: CertificateProfile, issuer: X509Certificate?) throws(OpenSSLError) {
    var context = X509V3_CTX()
    X509V3_set_ctx(&context, issuer?.pointer ?? pointer, pointer, nil, nil, 0)
    switch profile.role {
    case .authority(let pathLength):
      try add(NID_basic_constraints, "critical,CA:TRUE,pathlen:\(pathLength)", &context)
      try add(NID_key_usage, "critical,keyCertSign,cRLSign", &context)
    case .server:
      try add(NID_basic_constraints, "critical,CA:FALSE", &context)
      try add(NID_key_usage, "critical,digitalSignature", &context)
      try add(NID_ext_key_usage, "serverAuth", &context)
    }
    // The subject key identifier first: a self-signed certificate's authority key identifier copies it.
    try add(NID_subject_key_identifier, "hash", &context)
    try add(NID_authority_key_identifier, "keyid:always", &context)
    if !profile.names.isEmpty {
      try addSubjectAlternativeNames(profile.names, critical: profile.commonName == nil)
    }
  }

  /// One extension from OpenSSL's config syntax. Values are constants of this file, never user input.
  private func add(_ nid: Int32, _ value: String, _ context: inout X509V3_CTX) throws(OpenSSLError) {
    guard let ext = X509V3_EXT_nconf_nid(nil, &context, nid, value) else {
      throw OpenSSLError("X509V3_EXT_nconf_nid(\(value))")
    }
    defer { X509_EXTENSION_free(ext) }
    try check(X509_add_ext(pointer, ext, -1), "X509_add_ext(\(value))")
  }

  /// subjectAltName built entry by entry (not from config text, so no name can smuggle in syntax).
  private func addSubjectAlternativeNames(_ names: [SubjectAlternativeName], critical: Bool) throws(OpenSSLError) {
    guard let stack = edge_ca_general_names_new() else { throw OpenSSLError("sk_GENERAL_NAME_new_null") }
    defer { GENERAL_NAMES_free(stack) }
    for name in names {
      guard let entry = GENERAL_NAME_new() else { throw OpenSSLError("GENERAL_NAME_new") }
      switch name {
      case .dns(let host):
        guard let string = ASN1_IA5STRING_new() else {
          GENERAL_NAME_free(entry)
          throw OpenSSLError("ASN1_IA5STRING_new")
        }
        GENERAL_NAME_set0_value(entry, GEN_DNS, string)  // entry owns string from here
        guard ASN1_STRING_set(string, host, Int32(host.utf8.count)) == 1 else {
          GENERAL_NAME_free(entry)
          throw OpenSSLError("ASN1_STRING_set(\(host))")
        }
      case .ipAddress(let address):
        guard let octets = a2i_IPADDRESS(address) else {
          GENERAL_NAME_free(entry)
          throw OpenSSLError("a2i_IPADDRESS(\(address))")
        }
        GENERAL_NAME_set0_value(entry, GEN_IPADD, octets)
      }
      guard edge_ca_general_names_push(stack, entry) > 0 else {
        GENERAL_NAME_free(entry)
        throw OpenSSLError("sk_GENERAL_NAME_push")
      }
    }
    try check(X509_add1_ext_i2d(pointer, NID_subject_alt_name, UnsafeMutableRawPointer(stack), critical ? 1 : 0, 0),
      "X509_add1_ext_i2d(subjectAltName)")
  }
}
