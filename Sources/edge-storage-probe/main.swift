// edge-storage-probe: takes a FileStorage lock the way edge does, for tests that need a second process.
//
//   edge-storage-probe <root> <lock-name> [--owner O] [--ttl-ms N] [--hold-ms N] [--rounds N] [--poll-ms N]
//
// Each round polls for the lock, prints `acquired <owner> <µs>`, holds it for --hold-ms (refreshing it every
// third of the TTL), prints `releasing <owner> <µs>` and releases it. Times are CLOCK_MONOTONIC, which all
// processes on a machine share, so a test can line up several probes' intervals. Exits 0, or 1 on an error.
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import EdgeStorage

func microseconds() -> Int64 {
  var now = timespec()
  clock_gettime(CLOCK_MONOTONIC, &now)
  return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
}

func say(_ line: String) {
  print(line)
  fflush(nil)  // stdout is a pipe in tests: each line must leave at once
}

func fail(_ message: String) -> Never {
  let line = Array((message + "\n").utf8)
  _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
  exit(1)
}

func sleepMilliseconds(_ ms: Int64) {
  guard ms > 0 else { return }
  usleep(UInt32(clamping: ms * 1000))
}

var arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 2 else {
  fail("usage: edge-storage-probe <root> <lock-name> [--owner O] [--ttl-ms N] [--hold-ms N] [--rounds N] [--poll-ms N]")
}
let root = arguments.removeFirst()
let name = arguments.removeFirst()
var owner = "probe-\(getpid())"
var ttl: Int64 = 2000
var hold: Int64 = 100
var rounds = 1
var poll: Int64 = 5
while let option = arguments.first {
  arguments.removeFirst()
  guard let value = arguments.first else { fail("\(option) needs a value") }
  arguments.removeFirst()
  switch option {
  case "--owner": owner = value
  case "--ttl-ms": ttl = Int64(value) ?? ttl
  case "--hold-ms": hold = Int64(value) ?? hold
  case "--rounds": rounds = Int(value) ?? rounds
  case "--poll-ms": poll = Int64(value) ?? poll
  default: fail("unknown option \(option)")
  }
}

let storage = FileStorage(root: root)
do {
  for _ in 0..<rounds {
    var lock = try storage.lock(name, owner: owner, ttl: .milliseconds(ttl))
    while lock == nil {
      sleepMilliseconds(poll)
      lock = try storage.lock(name, owner: owner, ttl: .milliseconds(ttl))
    }
    say("acquired \(owner) \(microseconds())")
    let end = microseconds() + hold * 1000
    while microseconds() < end {
      sleepMilliseconds(min(ttl / 3, (end - microseconds()) / 1000 + 1))
      if microseconds() < end { try lock!.refresh() }
    }
    say("releasing \(owner) \(microseconds())")
    try lock!.release()
  }
} catch {
  fail("edge-storage-probe: \(error)")
}
