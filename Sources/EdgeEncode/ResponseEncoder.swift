/// A streaming body encoder for one response, whichever content coding it produces, so the connection
/// code holds one `any ResponseEncoder` instead of a case per coding.
public protocol ResponseEncoder: AnyObject {
  /// Compresses `input`, flushing so everything given so far is decodable, and hands the output to
  /// `emit` (each piece valid only during the call).
  func encode(_ input: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer) -> Void)
  /// Ends the stream and hands the last output to `emit`; later calls do nothing.
  func finish(_ emit: (UnsafeRawBufferPointer) -> Void)
}

extension GzipEncoder: ResponseEncoder {}
extension ZstdEncoder: ResponseEncoder {}
