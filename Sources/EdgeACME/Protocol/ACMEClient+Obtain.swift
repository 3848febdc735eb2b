extension ACMEClient {
  /// Orders a certificate for `names` (one order), proves control of every name with the first solver
  /// (in the given preference order) whose challenge type the CA offers, finalizes with `csrDER`
  /// (see `CertificateKey.csr(names:)`) and downloads the chain.
  ///
  /// - Parameter replacing: RFC 9773 certID of the certificate this one renews; sent as `replaces`
  ///   only when the CA advertises renewal information.
  public func obtain(
    names: [String], csrDER: [UInt8], solvers: [any ACMEChallengeSolver], replacing: String? = nil
  ) async throws -> ACMECertificate {
    try await withContext("obtaining [\(names.joined(separator: ", "))]") {
      guard !names.isEmpty else { throw ACMEError(.invalidInput, "no names") }
      var identifiers: [ACMEIdentifier] = []
      for name in names { identifiers.append(try ACMEIdentifier(name: name)) }
      let directory = try await directory()
      var payload = NewOrderPayload(identifiers: identifiers)
      if directory.renewalInfo != nil { payload.replaces = replacing }
      let created = try await withContext("creating an order") { try await post(directory.newOrder, payload) }
      let orderURL = try location(created, of: directory.newOrder, "newOrder")
      var order = try decode(ACMEOrder.self, created, "order")

      if order.status == "pending" {
        try await authorize(order.authorizations, solvers: solvers)
        order = try await withContext("waiting for order \(orderURL) to become ready") {
          try await poll(orderURL, timeout: options.authorizationTimeout) { (order: ACMEOrder) in
            order.status != "pending"
          }
        }
      }
      if order.status == "ready" {
        let csr = FinalizePayload(csr: Base64URL.encode(csrDER))
        let finalized = try await withContext("finalizing order \(orderURL)") { try await post(order.finalize, csr) }
        order = try decode(ACMEOrder.self, finalized, "order")
      }
      if order.status == "processing" || order.status == "ready" {
        order = try await withContext("waiting for order \(orderURL) to be issued") {
          try await poll(orderURL, timeout: options.orderTimeout) { (order: ACMEOrder) in
            order.status != "processing" && order.status != "ready"
          }
        }
      }
      guard order.status == "valid", let certificateURL = order.certificate else {
        let reason = order.error.map { ": \($0)" } ?? ""
        throw ACMEError(.validationFailed, "order \(orderURL) is \(order.status)\(reason)", problem: order.error)
      }
      return try await downloadCertificate(url: certificateURL)
    }
  }

  /// Downloads a certificate chain (the order's, or one of its `alternates`).
  public func downloadCertificate(url: String) async throws -> ACMECertificate {
    try await withContext("downloading certificate \(url)") {
      let response = try await post(url, payload: nil, accept: "application/pem-certificate-chain")
      let chain = String(decoding: response.body, as: UTF8.self)
      let leaf = try ACMELeafCertificate(chainPEM: chain)
      let base = try HTTPEndpoint(url)
      let alternates = LinkHeader.targets(response.headers.values("Link"), relation: "alternate", resolve: base.resolve)
      return ACMECertificate(
        chainPEM: chain, url: url, alternates: alternates, notBefore: leaf.notBefore, notAfter: leaf.notAfter)
    }
  }

  /// POST-as-GET `url` until `isDone` accepts the resource, waiting between polls with exponential
  /// backoff or the CA's Retry-After, whichever is longer; `timeout` bounds the whole wait.
  func poll<Resource: Decodable>(_ url: String, timeout: Duration, until isDone: (Resource) -> Bool) async throws
    -> Resource
  {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    var interval = options.initialPollInterval
    while true {
      let response = try await post(url, payload: nil)
      let resource = try decode(Resource.self, response, url)
      if isDone(resource) { return resource }
      let remaining = clock.now.duration(to: deadline)
      let retryAfter = RetryAfter.parse(response.headers["Retry-After"])
      guard remaining > .zero else { throw ACMEError(.timedOut, "still not done after \(timeout)", retryAfter: retryAfter) }
      let wait = max(interval, retryAfter ?? .zero)
      try await Task.sleep(for: min(wait, remaining))
      interval = min(interval * 2, options.maximumPollInterval)
    }
  }
}
