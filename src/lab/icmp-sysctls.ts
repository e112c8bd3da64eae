import type { IcmpMode } from './topology.js';

// The kernel default: destination unreachable, source quench, time exceeded, parameter problem.
const RATEMASK = 6168;

/**
 * How a node sends ICMP errors; set when a lab is built and again by `lab.setIcmp`. Each mode sets every knob
 * the others touch, so the result does not depend on the mode before.
 */
export function icmpSysctls(mode: IcmpMode): Array<[string, number]> {
  switch (mode) {
    case 'normal':
      // No error type is limited, so every probe gets its answer and the global bucket never fills: credit
      // left in it would let errors through after a switch to silent (it is capped only when refilled).
      return [
        ['net.ipv4.icmp_ratemask', 0],
        ['net.ipv4.icmp_ratelimit', 0],
        ['net.ipv4.icmp_msgs_per_sec', 100_000],
        ['net.ipv4.icmp_msgs_burst', 100_000],
      ];
    case 'silent':
      // No global credit at all: no time-exceeded or unreachable errors; echo replies are not limited. The
      // per-destination limit of a day also refuses while credit from `ratelimited` is left.
      return [
        ['net.ipv4.icmp_ratemask', RATEMASK],
        ['net.ipv4.icmp_ratelimit', 86_400_000],
        ['net.ipv4.icmp_msgs_per_sec', 0],
        ['net.ipv4.icmp_msgs_burst', 0],
      ];
    case 'ratelimited':
      // The kernel's defaults for a host: per destination a burst of 6, then one error per second.
      return [
        ['net.ipv4.icmp_ratemask', RATEMASK],
        ['net.ipv4.icmp_ratelimit', 1000],
        ['net.ipv4.icmp_msgs_per_sec', 1000],
        ['net.ipv4.icmp_msgs_burst', 50],
      ];
    case 'ratelimited-cisco':
      // Like a router's default `ip icmp rate-limit unreachable 500`: one error per 500 ms for every source
      // together, no burst (the kernel's global bucket, which spends 0-2 credits per error at random).
      return [
        ['net.ipv4.icmp_ratemask', RATEMASK],
        ['net.ipv4.icmp_ratelimit', 0],
        ['net.ipv4.icmp_msgs_per_sec', 2],
        ['net.ipv4.icmp_msgs_burst', 1],
      ];
  }
}

/** `sh` lines that write sysctls under /proc/sys. */
export const writeSysctls = (values: Array<[string, number]>): string[] =>
  values.map(([k, v]) => `echo ${v} > /proc/sys/${k.replaceAll('.', '/')}`);
