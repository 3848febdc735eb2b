internal import CEdgeShims
internal import COpenSSL

extension TLSSession {
  /// Chooses the certificate while OpenSSL holds the ClientHello (before it picks anything itself).
  ///
  /// A cache hit is served at once. A miss returns RETRY: `SSL_do_handshake` then stops with
  /// `SSL_ERROR_WANT_CLIENT_HELLO_CB` and the session reports `.waitingForCertificate`. The callback runs
  /// again when the handshake resumes (and again after a HelloRetryRequest), so `choice` remembers.
  func clientHello(alert: UnsafeMutablePointer<Int32>) -> Int32 {
    switch choice {
    case .chosen:
      return SSL_CLIENT_HELLO_SUCCESS
    case .waiting:
      return SSL_CLIENT_HELLO_RETRY
    case .provided(let key):
      return serve(key ?? context.certificates.defaultCertificate, alert: alert)
    case .refused(let reason):
      refusal = reason
      alert.pointee = SSL_AD_INTERNAL_ERROR
      return SSL_CLIENT_HELLO_ERROR
    case .undecided:
      let snapshot = context.certificates.snapshot
      var requested = requestedServerName()
      if case .absent = requested, let fallback = context.serverName(forNoSNIAt: addressName?()) {
        requested = .name(fallback)
      }
      switch requested {
      case .absent:
        return serve(snapshot.defaultCertificate, alert: alert)
      case .invalid:
        return refuse("invalid server name", alert: alert)
      case .name(let name):
        serverName = name
        if let challenges = context.configuration.challenges, offersOnlyACMEProtocol() {
          if let key = challenges.certificate(for: name) {
            isACMEValidation = true
            return serve(key, alert: alert)
          }
          if challenges.hasShared {
            // Another node of the cluster may have the challenge: the layer asks shared storage.
            isACMEValidation = true
            choice = .waiting
            return SSL_CLIENT_HELLO_RETRY
          }
        }
        if let policy = context.policy(for: name) { apply(policy) }
        if let key = snapshot.lookup(serverName: name) { return serve(key, alert: alert) }
        choice = .waiting
        return SSL_CLIENT_HELLO_RETRY
      }
    }
  }

  /// A site's own versions, ciphers and groups, set on this connection before they are negotiated (the
  /// callback runs before OpenSSL reads the versions, suites and key shares of the ClientHello).
  private func apply(_ policy: TLSSitePolicy) {
    if let range = policy.versions {
      _ = edge_ssl_set_min_proto(ssl, range.lowerBound.openSSLValue)
      _ = edge_ssl_set_max_proto(ssl, range.upperBound.openSSLValue)
    }
    if let ciphers = policy.tls12Ciphers { _ = SSL_set_cipher_list(ssl, ciphers) }
    if let groups = policy.groups { _ = edge_ssl_set1_groups_list(ssl, groups) }
  }

  /// Whether the ClientHello's ALPN list is exactly `acme-tls/1`, as a TLS-ALPN-01 validator sends it
  /// (RFC 8737 §3).
  private func offersOnlyACMEProtocol() -> Bool {
    var data: UnsafePointer<UInt8>?
    var length = 0
    guard SSL_client_hello_get0_ext(ssl, UInt32(TLSEXT_TYPE_application_layer_protocol_negotiation), &data, &length) == 1,
      let data
    else { return false }
    // ProtocolNameList: a two-byte length, then one length-prefixed name.
    let bytes = UnsafeRawBufferPointer(start: data, count: length)
    let name = Array(ChallengeCertificates.protocolName.utf8)
    return bytes.count == 3 + name.count && Int(bytes[0]) << 8 | Int(bytes[1]) == 1 + name.count
      && Int(bytes[2]) == name.count && bytes[3...].elementsEqual(name)
  }

  /// The SNI extension, parsed from its raw bytes (`SSL_get_servername` is still NULL here).
  private func requestedServerName() -> ServerName {
    var data: UnsafePointer<UInt8>?
    var length = 0
    guard SSL_client_hello_get0_ext(ssl, UInt32(TLSEXT_TYPE_server_name), &data, &length) == 1, let data else {
      return .absent
    }
    return ServerName.parse(UnsafeRawBufferPointer(start: data, count: length))
  }

  /// Puts `key` on this connection, or refuses with unrecognized_name when there is none.
  private func serve(_ key: CertifiedKey?, alert: UnsafeMutablePointer<Int32>) -> Int32 {
    guard let key else {
      let reason = serverName.map { "no certificate for \($0)" } ?? "no server name and no default certificate"
      return refuse(reason, alert: alert)
    }
    guard SSL_use_cert_and_key(ssl, key.leaf, key.privateKey, key.chain, 1) == 1 else {
      refusal = OpenSSLError("SSL_use_cert_and_key").description
      alert.pointee = SSL_AD_INTERNAL_ERROR
      return SSL_CLIENT_HELLO_ERROR
    }
    choice = .chosen(key)
    return SSL_CLIENT_HELLO_SUCCESS
  }

  private func refuse(_ reason: String, alert: UnsafeMutablePointer<Int32>) -> Int32 {
    refusal = reason
    alert.pointee = SSL_AD_UNRECOGNIZED_NAME
    return SSL_CLIENT_HELLO_ERROR
  }

  /// Picks the first protocol in the server's preference list that the client offered. `out` points
  /// into the client's list, which OpenSSL keeps for the whole handshake (and copies on return).
  func selectApplicationProtocol(
    offered: UnsafeRawBufferPointer, out: UnsafeMutablePointer<UnsafePointer<UInt8>?>,
    outLength: UnsafeMutablePointer<UInt8>
  ) -> Int32 {
    if isACMEValidation {
      // The client offered exactly `acme-tls/1` (checked in the client-hello callback).
      out.pointee = offered.baseAddress!.assumingMemoryBound(to: UInt8.self) + 1
      outLength.pointee = offered[0]
      return SSL_TLSEXT_ERR_OK
    }
    let preferred = context.alpnWire
    var serverOffset = 0
    while serverOffset < preferred.count {
      let wantLength = Int(preferred[serverOffset])
      let want = preferred[(serverOffset + 1)..<(serverOffset + 1 + wantLength)]
      var offset = 0
      while offset < offered.count {
        let length = Int(offered[offset])
        guard offset + 1 + length <= offered.count else { return SSL_TLSEXT_ERR_ALERT_FATAL }
        let candidate = offered[(offset + 1)..<(offset + 1 + length)]
        if candidate.elementsEqual(want) {
          out.pointee = offered.baseAddress!.assumingMemoryBound(to: UInt8.self) + offset + 1
          outLength.pointee = UInt8(length)
          return SSL_TLSEXT_ERR_OK
        }
        offset += 1 + length
      }
      serverOffset += 1 + wantLength
    }
    return SSL_TLSEXT_ERR_NOACK
  }
}
