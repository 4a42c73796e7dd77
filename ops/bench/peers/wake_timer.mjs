/**
 * Run by the `wakeup` bench scenario under Deno and under Node alike: fires
 * an empty timer every `period` ms for `seconds` s and prints one JSON line,
 * the firings and the CPU the process spent meanwhile (the scheduler's
 * on-CPU time of every thread, /proc/self/task/<tid>/schedstat, ns-exact).
 *
 * Usage: wake_timer.mjs <period ms> <seconds>
 *
 * @module
 */
import { readdirSync, readFileSync } from "node:fs";
import process from "node:process";

const [period, seconds] = process.argv.slice(-2).map(Number);

/** On-CPU milliseconds of every thread of this process. */
function cpuMs() {
  let ns = 0;
  for (const tid of readdirSync("/proc/self/task")) {
    const stat = readFileSync(`/proc/self/task/${tid}/schedstat`, "utf8");
    ns += Number(stat.split(" ")[0]);
  }
  return ns / 1e6;
}

let fired = 0;
const timer = setInterval(() => {
  fired++;
}, period);
// A second to settle (startup, first GC) before measuring.
setTimeout(() => {
  const firedBefore = fired;
  const cpuBefore = cpuMs();
  setTimeout(() => {
    const firings = fired - firedBefore;
    const spent = cpuMs() - cpuBefore;
    clearInterval(timer);
    process.stdout.write(
      JSON.stringify({ firings, cpuMs: Math.round(spent * 10) / 10 }) + "\n",
    );
  }, seconds * 1000);
}, 1000);
