import Foundation

/// node_exporter-compatible `process_*` metrics read from /proc (Linux). Absent elsewhere.
public enum ProcessMetrics {
    static let residentMemory = MetricDefinition(
        name: "process_resident_memory_bytes", help: "Resident memory size in bytes.", type: .gauge, labels: [])
    static let virtualMemory = MetricDefinition(
        name: "process_virtual_memory_bytes", help: "Virtual memory size in bytes.", type: .gauge, labels: [])
    static let cpuSeconds = MetricDefinition(
        name: "process_cpu_seconds_total", help: "Total user and system CPU time spent in seconds.", type: .counter, labels: [])
    static let openFDs = MetricDefinition(name: "process_open_fds", help: "Number of open file descriptors.", type: .gauge, labels: [])
    static let maxFDs = MetricDefinition(
        name: "process_max_fds", help: "Maximum number of open file descriptors.", type: .gauge, labels: [])
    static let startTime = MetricDefinition(
        name: "process_start_time_seconds", help: "Start time of the process since unix epoch in seconds.", type: .gauge, labels: [])

    public static let definitions = [residentMemory, virtualMemory, cpuSeconds, openFDs, maxFDs, startTime]

    static let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
    static let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
    static let bootTime: Double? = {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        for line in stat.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst(6).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }()

    static func families() -> [MetricFamily] {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return [] }
        // Fields after "pid (comm)": state is field 3; utime 14, stime 15, starttime 22, vsize 23, rss 24.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        func field(_ number: Int) -> Double { Double(fields[safe: number - 3] ?? "") ?? 0 }
        var out = [
            virtualMemory.family([Sample([], field(23))]),
            residentMemory.family([Sample([], field(24) * pageSize)]),
            cpuSeconds.family([Sample([], (field(14) + field(15)) / ticks)]),
        ]
        if let bootTime { out.append(startTime.family([Sample([], bootTime + field(22) / ticks)])) }
        if let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            out.append(openFDs.family([Sample([], Double(fds.count))]))
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            out.append(maxFDs.family([Sample([], Double(limit.rlim_cur))]))
        }
        return out
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
