extension HTTP1Error {
  /// The cause of an `HTTP1Error`.
  public enum Reason: Equatable, Sendable, CustomStringConvertible {
    // Start line
    case invalidRequestLine
    case invalidMethod
    case invalidTarget
    case asteriskFormNotOptions
    case authorityFormNotConnect
    case userinfoInTarget
    case uriTooLong
    case invalidVersion
    case unsupportedVersion
    case invalidStatusLine
    case invalidStatusCode
    // Lines and fields
    case bareLF
    case bareCR
    case invalidFieldName
    case whitespaceBeforeColon
    case missingColon
    case obsoleteLineFolding
    case invalidFieldValue
    case headTooLarge
    case tooManyFields
    // Host
    case missingHost
    case duplicateHost
    case invalidHost
    // Framing
    case invalidContentLength
    case conflictingContentLength
    case contentLengthWithTransferEncoding
    case duplicateTransferEncoding
    case transferEncodingInHTTP10
    case invalidTransferEncoding
    case unsupportedTransferCoding
    // Chunked bodies
    case invalidChunkSize
    case emptyChunkSize
    case chunkSizeOverflow
    case missingChunkDataCRLF
    case invalidChunkExtension
    case chunkExtensionTooLong
    case invalidTrailer
    case trailerTooLarge

    /// The status a server answers a request with for this cause.
    public var requestStatus: Int {
      switch self {
      case .uriTooLong: 414
      case .headTooLarge, .tooManyFields: 431
      case .unsupportedTransferCoding: 501
      case .unsupportedVersion: 505
      default: 400
      }
    }

    public var description: String {
      switch self {
      case .invalidRequestLine: "malformed request line"
      case .invalidMethod: "method is not a token"
      case .invalidTarget: "malformed request target"
      case .asteriskFormNotOptions: "asterisk-form target with a method other than OPTIONS"
      case .authorityFormNotConnect: "CONNECT needs an authority-form target, and only CONNECT may use one"
      case .userinfoInTarget: "userinfo in the target's authority"
      case .uriTooLong: "request target longer than the limit"
      case .invalidVersion: "malformed HTTP version"
      case .unsupportedVersion: "HTTP version not supported"
      case .invalidStatusLine: "malformed status line"
      case .invalidStatusCode: "status code is not three digits from 100 to 999"
      case .bareLF: "line ended by LF without CR"
      case .bareCR: "CR not followed by LF"
      case .invalidFieldName: "field name is not a token"
      case .whitespaceBeforeColon: "whitespace between field name and colon"
      case .missingColon: "field line without a colon"
      case .obsoleteLineFolding: "obsolete line folding"
      case .invalidFieldValue: "control character in a field value"
      case .headTooLarge: "header section larger than the limit"
      case .tooManyFields: "more header fields than the limit"
      case .missingHost: "HTTP/1.1 request without Host"
      case .duplicateHost: "more than one Host field"
      case .invalidHost: "malformed Host"
      case .invalidContentLength: "malformed Content-Length"
      case .conflictingContentLength: "differing Content-Length values"
      case .contentLengthWithTransferEncoding: "both Content-Length and Transfer-Encoding"
      case .duplicateTransferEncoding: "more than one Transfer-Encoding field"
      case .transferEncodingInHTTP10: "Transfer-Encoding in an HTTP/1.0 message"
      case .invalidTransferEncoding: "Transfer-Encoding other than chunked alone"
      case .unsupportedTransferCoding: "transfer coding not implemented"
      case .invalidChunkSize: "chunk size is not hexadecimal"
      case .emptyChunkSize: "empty chunk size"
      case .chunkSizeOverflow: "chunk size too large"
      case .missingChunkDataCRLF: "chunk data not followed by CRLF"
      case .invalidChunkExtension: "malformed chunk extension"
      case .chunkExtensionTooLong: "chunk extension longer than the limit"
      case .invalidTrailer: "malformed trailer field"
      case .trailerTooLarge: "trailer section larger than the limit"
      }
    }
  }
}
