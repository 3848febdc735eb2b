import EdgeCore
import Foundation
import Prometheus

/// The standard `process_*` series (Prometheus' client conventions), read from /proc at each rendering.
enum ProcessMetrics {
  private static let cpu = Family("process_cpu_seconds_total", "User and system CPU time spent, in seconds.").counter()
  private static let cpuSeen = Locked<Double>(0)
  private static let resident = Family("process_resident_memory_bytes", "Resident memory size in bytes.").gauge()
  private static let virtual = Family("process_virtual_memory_bytes", "Virtual memory size in bytes.").gauge()
  private static let openFDs = Family("process_open_fds", "Open file descriptors.").gauge()
  private static let maxFDs = Family("process_max_fds", "The limit on open file descriptors.").gauge()
  private static let start = Family("process_start_time_seconds", "Start time of the process since the epoch, in seconds.").gauge()
  /// The process's start, from its start tick (`/proc/self/stat` field 22) and the boot time
  /// (`/proc/stat` btime); the first reading's time if /proc says nothing.
  static let startTime: Double = {
    let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
    guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
      let close = stat.lastIndex(of: ")"),
      let machine = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
      let line = machine.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
      let boot = Double(line.dropFirst(6))
    else { return Date().timeIntervalSince1970 }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 19, let started = Double(fields[19]) else { return Date().timeIntervalSince1970 }
    return boot + started / ticks
  }()

  static func update() {
    start.set(startTime)
    if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
      let close = stat.lastIndex(of: ")")
    {
      // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15,
      // vsize 23, rss 24 (in pages).
      let fields = stat[stat.index(after: close)...].split(separator: " ")
      if fields.count > 22 {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let seconds = ((Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)) / ticks
        let delta = cpuSeen.withLock { seen -> Double in
          let d = max(seconds - seen, 0)
          seen = max(seen, seconds)
          return d
        }
        if delta > 0 { cpu.increment(by: delta) }
        virtual.set(Double(fields[20]) ?? 0)
        resident.set((Double(fields[21]) ?? 0) * Double(sysconf(Int32(_SC_PAGESIZE))))
      }
    }
    if let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
      openFDs.set(Double(entries.count))
    }
    var limit = rlimit()
    if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 { maxFDs.set(Double(limit.rlim_cur)) }
  }
}
