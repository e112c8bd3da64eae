/**
 * The YAML description of a virtual-internet lab (docs/lab.md): named nodes (hosts and routers) and the
 * point-to-point links between them. Every address must lie in a documentation or benchmarking range, so a
 * lab can never claim or reach an address that exists on the real internet.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../config/load-config.js';
import { blocksOverlap, parseTarget, type Block } from '../net/ip-address.js';
import { loAddress, type LabPlan } from './plan-lab.js';

export class TopologyError extends ConfigError {
  override name = 'TopologyError';
}

/** RFC 2544 benchmarking (198.18.0.0/15) and the RFC 5737 documentation blocks; IPv4 only for now. */
export const LAB_RANGES: readonly Block[] = ['198.18.0.0/15', '192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24'].map(
  mustParse,
);

// Interfaces are named `to-<peer>` and Linux allows 15 characters, so node names stop at 12.
const nodeName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,11}$/, 'node names are 1-12 characters of a-z, 0-9 and -, starting with a letter');
// No '-' in lab names: leftovers are found by the prefix `hm-<lab>-`, which must not match another lab's.
export const labName = z
  .string()
  .regex(/^[a-z][a-z0-9]{0,15}$/, 'lab names are 1-16 characters of a-z and 0-9, starting with a letter');

export function assertLabName(name: string): string {
  const result = labName.safeParse(name);
  if (!result.success) throw new TopologyError(`lab name "${name}": ${result.error.issues[0]?.message}`);
  return name;
}

const labCidr = z.string().superRefine((text, ctx) => {
  const problem = cidrProblem(text);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const icmp = z.enum(['normal', 'silent', 'ratelimited', 'ratelimited-cisco']);
// Any 32-bit AS number (RFC 6793) is accepted; lab files use the documentation (RFC 5398: 64496-64511,
// 65536-65551) or private (RFC 6996: 64512-65534) ones.
const asNumber = z
  .number()
  .int('an AS number is a whole number')
  .min(1, 'AS numbers are 1-4294967295')
  .max(4294967295, 'AS numbers are 1-4294967295');
// `r1: router` is short for `r1: { kind: router }`.
const nodeSpec = z.preprocess(
  (v) => (typeof v === 'string' ? { kind: v } : v),
  z.strictObject({
    kind: z.enum(['host', 'router']),
    icmp: icmp.default('normal'),
    lo: z.array(labCidr).default([]),
    as: asNumber.optional(),
  }),
);

// How `hopmap lab run` runs the whole mapper on the lab: input and output services on one host, a worker on
// each vantage host.
const runSpec = z.strictObject({
  services: z.string(),
  vantages: z.array(z.string()).min(1, 'a run needs at least one vantage'),
  inputs: z.number().int().min(1).default(1),
  outputs: z.number().int().min(1).default(1),
});

const linkSpec = z
  .array(z.string(), 'a link is [node, node] or [node, node, subnet]')
  .refine((l) => l.length === 2 || l.length === 3, 'a link is [node, node] or [node, node, subnet]')
  .transform((l) => l as [string, string] | [string, string, string]);

export const topologySchema = z
  .strictObject({
    name: labName,
    nodes: z
      .record(nodeName, nodeSpec)
      .refine((nodes) => Object.keys(nodes).length > 0, 'a lab needs at least one node'),
    links: z.array(linkSpec).default([]),
    ecmp_hash: z.enum(['l3', 'l4']).default('l4'),
    run: runSpec.optional(),
  })
  .superRefine((topo, ctx) => {
    const seen = new Map<string, number>();
    const prefixes: Array<{ block: Block; path: Array<string | number> }> = [];
    topo.links.forEach((link, i) => {
      if (link.length < 2 || link.length > 3) return;
      const [a, b, subnet] = link;
      for (const [end, name] of [
        [0, a],
        [1, b],
      ] as const) {
        if (!Object.hasOwn(topo.nodes, name))
          ctx.addIssue({
            code: 'custom',
            path: ['links', i, end],
            message: `unknown node "${name}" (nodes: ${Object.keys(topo.nodes).join(', ')})`,
          });
      }
      if (a === b)
        ctx.addIssue({
          code: 'custom',
          path: ['links', i],
          message: `a link needs two different nodes, not "${a}" twice`,
        });
      const key = [a, b].sort().join(' ');
      const earlier = seen.get(key);
      if (earlier !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['links', i],
          message: `duplicate link ${a}-${b} (also links[${earlier}])`,
        });
      else seen.set(key, i);
      const problem = subnet === undefined ? null : cidrProblem(subnet);
      if (problem) ctx.addIssue({ code: 'custom', path: ['links', i, 2], message: problem });
      if (subnet !== undefined && !problem) {
        const block = mustParse(subnet);
        if (block.prefixLength > 31)
          ctx.addIssue({
            code: 'custom',
            path: ['links', i, 2],
            message: `a link subnet needs two addresses; ${subnet} has one (use a /30 or /31)`,
          });
        prefixes.push({ block, path: ['links', i, 2] });
      }
    });
    for (const [name, node] of Object.entries(topo.nodes)) {
      node.lo.forEach((text, j) => {
        if (!cidrProblem(text)) prefixes.push({ block: mustParse(text), path: ['nodes', name, 'lo', j] });
      });
    }
    prefixes.forEach((p, i) => {
      const clash = prefixes.slice(0, i).find((q) => blocksOverlap(p.block, q.block));
      if (clash)
        ctx.addIssue({
          code: 'custom',
          path: p.path,
          message: `${p.block.cidr} overlaps ${clash.block.cidr} at ${formatPath(clash.path)}`,
        });
    });
    if (topo.run)
      runProblems(topo.nodes, topo.run).forEach(([path, message]) =>
        ctx.addIssue({ code: 'custom', path: ['run', ...path], message }),
      );
  });

export type Topology = z.output<typeof topologySchema>;
export type NodeKind = Topology['nodes'][string]['kind'];
export type IcmpMode = z.output<typeof icmp>;
export type RunSpec = z.output<typeof runSpec>;

/** The lo prefixes of every host that is neither the run's services host nor a vantage: the target address ranges. */
export function targetRanges(plan: LabPlan): Block[] {
  const busy = new Set(plan.run ? [plan.run.services, ...plan.run.vantages] : []);
  return [...plan.nodes.values()].filter((n) => n.kind === 'host' && !busy.has(n.name)).flatMap((n) => n.lo);
}

/** One address per target range, to seed the mapper with. */
export function bootstrapAddresses(plan: LabPlan): string[] {
  return targetRanges(plan).map(loAddress);
}

/** Parses and validates a topology; every problem is reported with where it is (`diamond.yaml: links[2][1]: unknown node "r9"`). */
export function parseTopology(text: string, source = 'topology'): Topology {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new TopologyError(`${source}: not valid YAML: ${(err as Error).message}`);
  }
  const result = topologySchema.safeParse(raw);
  if (result.success) return result.data;
  throw new TopologyError(
    result.error.issues
      // A bad node name is reported by zod as an "invalid key" wrapping the name's own issue.
      .map(
        (issue) =>
          `${source}: ${formatPath(issue.path) || '(top level)'}: ${issue.code === 'invalid_key' ? issue.issues[0]?.message : issue.message}`,
      )
      .join('\n'),
  );
}

export function loadTopology(path: string): Topology {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new TopologyError(`cannot read topology ${path}: ${(err as Error).message}`);
  }
  return parseTopology(text, path);
}

function runProblems(nodes: Record<string, { kind: string }>, run: RunSpec): Array<[Array<string | number>, string]> {
  const problems: Array<[Array<string | number>, string]> = [];
  const hostProblem = (name: string): string | null => {
    if (!Object.hasOwn(nodes, name)) return `unknown node "${name}" (nodes: ${Object.keys(nodes).join(', ')})`;
    return nodes[name]!.kind === 'host' ? null : `"${name}" is a ${nodes[name]!.kind}; the mapper runs on hosts`;
  };
  const services = hostProblem(run.services);
  if (services) problems.push([['services'], services]);
  const seen = new Map<string, number>();
  run.vantages.forEach((name, i) => {
    const problem = hostProblem(name);
    const earlier = seen.get(name);
    if (problem) problems.push([['vantages', i], problem]);
    else if (name === run.services)
      problems.push([['vantages', i], `"${name}" is the services host; a vantage needs a host of its own`]);
    else if (earlier !== undefined)
      problems.push([['vantages', i], `duplicate vantage "${name}" (also run.vantages[${earlier}])`]);
    if (earlier === undefined) seen.set(name, i);
  });
  return problems;
}

function cidrProblem(text: string): string | null {
  const parsed = parseTarget(text);
  if (!parsed.ok) return parsed.reason;
  if (parsed.block.family !== 4) return `${text}: the lab is IPv4 only for now`;
  if (
    !LAB_RANGES.some((r) => parsed.block.first >= r.first && parsed.block.first + parsed.block.size <= r.first + r.size)
  ) {
    return `${text} is outside the ranges a lab may use (${LAB_RANGES.map((r) => r.cidr).join(', ')})`;
  }
  return null;
}

function mustParse(text: string): Block {
  const parsed = parseTarget(text);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.block;
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}
