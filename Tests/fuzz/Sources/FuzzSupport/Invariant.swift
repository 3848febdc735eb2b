/// A broken invariant: stops the process the way a crash does, so libFuzzer saves the input as an
/// artifact. (`assert` is compiled out of the release builds the fuzzer runs; this never is.)
public func invariant(
  _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID,
  line: UInt = #line
) {
  if !condition() { fatalError("invariant broken: \(message())", file: file, line: line) }
}
