import Foundation
import Testing
@testable import EdgeStorage

#if canImport(Glibc)
  import Glibc
#endif

/// Locks between processes, with `edge-storage-probe` (built with the tests) as the other processes.
@Suite("FileStorage locks between processes")
struct LockProcessTests {
  @Test("two processes taking turns never hold the lock at the same time")
  func processesExclude() throws {
    let root = TemporaryRoot()
    let probes = try ["A", "B"].map { owner in
      try Probe(root.storage.root, "issue:a.example", ["--owner", owner, "--rounds", "6", "--hold-ms", "40", "--poll-ms", "2"])
    }
    let events = try probes.flatMap { probe in try probe.waitForExit() }
    #expect(probes.allSatisfy { $0.process.terminationStatus == 0 })
    #expect(events.count(where: { $0.kind == "acquired" }) == 12)
    // Each holding interval [acquired, releasing], in time order, ends before the next one starts.
    let intervals = Probe.intervals(events).sorted { $0.start < $1.start }
    #expect(intervals.count == 12)
    for (earlier, later) in zip(intervals, intervals.dropFirst()) {
      #expect(earlier.end <= later.start, "\(earlier.owner) still held the lock when \(later.owner) got it")
    }
  }

  @Test("a holder killed with SIGKILL is taken over once its TTL passes, not before, by one waiter at a time")
  func killedHolderIsTakenOver() throws {
    let root = TemporaryRoot()
    let ttl: Int64 = 600
    let holder = try Probe(root.storage.root, "renew", ["--owner", "holder", "--ttl-ms", "\(ttl)", "--hold-ms", "60000"])
    _ = try holder.nextLine()  // acquired
    let waiters = try ["W1", "W2"].map { owner in
      try Probe(root.storage.root, "renew", ["--owner", owner, "--hold-ms", "100", "--poll-ms", "2"])
    }
    // The holder refreshes every TTL/3: two TTLs later the waiters still have nothing.
    usleep(UInt32(2 * ttl * 1000))
    #expect(waiters.allSatisfy { $0.process.isRunning }, "a waiter got the lock while its holder was refreshing it")
    kill(holder.process.processIdentifier, SIGKILL)
    let killed = Probe.monotonicMicroseconds()
    holder.process.waitUntilExit()
    let events = try waiters.flatMap { try $0.waitForExit() }
    #expect(waiters.allSatisfy { $0.process.terminationStatus == 0 })
    let intervals = Probe.intervals(events).sorted { $0.start < $1.start }
    try #require(intervals.count == 2)
    // Stale at the holder's last refresh (at most TTL/3 before the kill) plus the TTL.
    #expect(intervals[0].start - killed >= (2 * ttl / 3 - 50) * 1000)
    #expect(intervals[0].start - killed <= (ttl + 1000) * 1000)
    #expect(intervals[0].end <= intervals[1].start, "both waiters held the taken-over lock at once")
  }
}

/// One running `edge-storage-probe` and the lines it printed.
final class Probe {
  struct Event {
    let kind: String
    let owner: String
    let time: Int64
  }

  let process = Process()
  private let output = Pipe()
  private var buffered: [UInt8] = []

  init(_ root: String, _ name: String, _ options: [String]) throws {
    process.executableURL = try Self.executable()
    process.arguments = [root, name] + options
    process.standardOutput = output
    try process.run()
  }

  /// The probe beside the test bundle; a missing one fails with what to build.
  static func executable() throws -> URL {
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    if directory.lastPathComponent == "MacOS" {  // inside an .xctest bundle on macOS
      directory = directory.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
    let probe = directory.appendingPathComponent("edge-storage-probe")
    guard FileManager.default.isExecutableFile(atPath: probe.path) else {
      Issue.record("edge-storage-probe is not at \(probe.path): build it with 'swift build --product edge-storage-probe'")
      throw CocoaError(.fileNoSuchFile)
    }
    return probe
  }

  /// The next line of output, waiting for it.
  func nextLine() throws -> String {
    while true {
      if let newline = buffered.firstIndex(of: UInt8(ascii: "\n")) {
        let line = String(decoding: buffered[..<newline], as: UTF8.self)
        buffered.removeSubrange(...newline)
        return line
      }
      let more = output.fileHandleForReading.availableData
      if more.isEmpty { throw CocoaError(.fileReadUnknown) }
      buffered += more
    }
  }

  /// Every event the probe printed (including those already read with `nextLine`, which are not
  /// repeated), once it has exited.
  func waitForExit() throws -> [Event] {
    buffered += output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: buffered, as: UTF8.self).split(separator: "\n").compactMap { line in
      let fields = line.split(separator: " ")
      guard fields.count == 3, let time = Int64(fields[2]) else { return nil }
      return Event(kind: String(fields[0]), owner: String(fields[1]), time: time)
    }
  }

  static func intervals(_ events: [Event]) -> [(owner: String, start: Int64, end: Int64)] {
    var open: [String: Int64] = [:]
    var intervals: [(owner: String, start: Int64, end: Int64)] = []
    for event in events {
      if event.kind == "acquired" {
        open[event.owner] = event.time
      } else if let start = open.removeValue(forKey: event.owner) {
        intervals.append((event.owner, start, event.time))
      }
    }
    return intervals
  }

  static func monotonicMicroseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
  }
}
