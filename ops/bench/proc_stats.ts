/**
 * CPU and memory of processes from `/proc`: utime + stime in seconds, RSS in
 * bytes, the load average.
 *
 * @module
 */

/** Clock ticks per second of `/proc/<pid>/stat` (USER_HZ, 100 on Linux). */
const TICKS = 100;

/** CPU seconds (user + system) `pid` has used; 0 when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Fields after the command name, which may hold spaces: "(name) S ppid …"
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return 0;
  }
}

/** Resident set size of `pid` in bytes; 0 when it is gone. */
export function rssBytes(pid: number): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = /VmRSS:\s+(\d+)/.exec(status);
    return kb ? Number(kb[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * Anonymous resident memory of `pid` in bytes (`RssAnon`: heaps, stacks,
 * buffers; not the pages of the binary and libraries, which the kernel may
 * drop and read again under memory pressure); 0 when it is gone.
 */
export function anonRssBytes(pid: number): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = /RssAnon:\s+(\d+)/.exec(status);
    return kb ? Number(kb[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Sum of {@link anonRssBytes} over `pids`. */
export const totalAnonRss = (pids: number[]): number =>
  pids.reduce((sum, pid) => sum + anonRssBytes(pid), 0);

/** Sum of {@link cpuSeconds} over `pids`. */
export const totalCpu = (pids: number[]): number =>
  pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);

/** Sum of {@link rssBytes} over `pids`. */
export const totalRss = (pids: number[]): number =>
  pids.reduce((sum, pid) => sum + rssBytes(pid), 0);

/** The 1-minute load average. */
export function loadAverage(): number {
  try {
    return Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
  } catch {
    return -1;
  }
}

/**
 * CPU seconds the whole machine has spent busy (every core, every process:
 * user, nice, system, irq, softirq, steal), from `/proc/stat`; the others
 * on a shared machine included.
 */
export function machineBusySeconds(): number {
  try {
    const line = Deno.readTextFileSync("/proc/stat").split("\n")[0]!;
    const [user, nice, system, _idle, _iowait, irq, softirq, steal] = line
      .split(/\s+/).slice(1).map(Number);
    return (user! + nice! + system! + irq! + softirq! + steal!) / TICKS;
  } catch {
    return 0;
  }
}

/** Box-wide TCP counters that show a storm's lost handshakes and retransmits. */
export type TcpCounters = {
  /** SYNs or handshake ACKs dropped because a listener's accept queue was full. */
  listenOverflows: number;
  listenDrops: number;
  /** Retransmit timer expiries (a SYN or segment sent again after a wait). */
  timeouts: number;
  retransSegs: number;
};

/** Pairs the header and value lines of `/proc/net/netstat` or `/proc/net/snmp`. */
function netCounters(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const lines = text.trim().split("\n");
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const names = lines[i]!.split(/\s+/);
    const values = lines[i + 1]!.split(/\s+/);
    const group = names[0]!.replace(/:$/, "");
    for (let j = 1; j < names.length; j++) {
      out.set(`${group}.${names[j]}`, Number(values[j]));
    }
  }
  return out;
}

/** {@link TcpCounters} now, every process of the machine included; zeros off Linux. */
export function tcpCounters(): TcpCounters {
  try {
    const ext = netCounters(Deno.readTextFileSync("/proc/net/netstat"));
    const snmp = netCounters(Deno.readTextFileSync("/proc/net/snmp"));
    return {
      listenOverflows: ext.get("TcpExt.ListenOverflows") ?? 0,
      listenDrops: ext.get("TcpExt.ListenDrops") ?? 0,
      timeouts: ext.get("TcpExt.TCPTimeouts") ?? 0,
      retransSegs: snmp.get("Tcp.RetransSegs") ?? 0,
    };
  } catch {
    return { listenOverflows: 0, listenDrops: 0, timeouts: 0, retransSegs: 0 };
  }
}
