/// A layer between a stream's socket and its owner: ciphertext below, plaintext above (TLS).
///
/// With a layer set, socket bytes go to `streamReceived` instead of the delegate; the layer hands the
/// plaintext on with `stream.deliver(_:)`, sends its own records with `stream.writeRaw(_:)`, and reports
/// the peer's close_notify with `stream.deliverEOF()`. What the owner writes is batched as plaintext and
/// sealed when the batch goes out (one record per flush, not one per `write`), and only once
/// `isEstablished`: writes made during the handshake wait for it.
///
/// Called on the stream's loop only.
public protocol StreamSecurity: AnyObject {
  /// Whether application data may be sealed.
  var isEstablished: Bool { get }
  /// Ciphertext from the socket, valid only during the call.
  func streamReceived(_ stream: TCPStream, _ ciphertext: UnsafeRawBufferPointer)
  /// Seals `plaintext` and hands the records to `send` (valid only during the call). Returns false
  /// when the layer has failed (the stream then drops the data).
  func seal(_ plaintext: UnsafeRawBufferPointer, send: (UnsafeRawBufferPointer) -> Void) -> Bool
  /// Hands the records that end the session (close_notify) to `send`, once.
  func sealClose(send: (UnsafeRawBufferPointer) -> Void)
  /// The stream has closed: release timers and anything waiting.
  func streamClosed(_ stream: TCPStream)
}

extension TCPStream {
  /// Hands plaintext from the security layer to the owner.
  public func deliver(_ plaintext: UnsafeRawBufferPointer) {
    guard !isClosed else { return }
    delegate?.streamDidRead(self, plaintext)
  }

  /// The security layer read the peer's close_notify: the same as a FIN for the owner.
  public func deliverEOF() {
    guard !isClosed else { return }
    stopReading()
    delegate?.streamDidReachEOF(self)
  }

  /// The security layer failed (a bad handshake or record): the owner closes the stream.
  public func deliverFailure(_ error: UVError) {
    guard !isClosed else { return }
    stopReading()
    delegate?.streamDidFail(self, error)
  }
}

/// The far side of a stream without a socket (`TCPStream(loop:pipe:)`): an HTTP/2 stream carrying what
/// an HTTP/1.1 connection reads and writes. Bytes in go through `TCPStream.deliver`, and only while
/// `isReading`; bytes out arrive here in order, after the stream's own batching.
///
/// Called on the stream's loop only.
public protocol StreamPipe: AnyObject {
  /// Bytes the stream's owner wrote, valid only during the call.
  func pipeReceived(_ stream: TCPStream, _ bytes: UnsafeRawBufferPointer)
  /// Bytes taken by `pipeReceived` not yet passed on: part of the stream's `queuedBytes`. The pipe calls
  /// `stream.pipeDrained()` as they go.
  var pipeQueued: Int { get }
  /// The owner started or stopped reading (`stream.isReading`).
  func pipeReadingChanged(_ stream: TCPStream)
  /// The owner has written everything it will (FIN).
  func pipeFinished(_ stream: TCPStream)
  /// The owner abandons the stream (RST); `pipeClosed` follows.
  func pipeReset(_ stream: TCPStream)
  /// The stream closed, after `pipeFinished` or without it.
  func pipeClosed(_ stream: TCPStream)
}
