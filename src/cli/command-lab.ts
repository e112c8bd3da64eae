import { Command } from 'commander';
import { labMapCommand } from './command-lab-map.js';
import { labReportCommand, labRunCommand } from './command-lab-run.js';
import { buildLab } from '../lab/build-lab.js';
import { findLink, findNode, LabStateError, type LinkState } from '../lab/change-lab.js';
import { openLab, type Lab } from '../lab/open-lab.js';
import { loAddress } from '../lab/plan-lab.js';
import { loadTopology, type IcmpMode } from '../lab/topology.js';
import { runCommand } from './run-command.js';

interface LabFlags {
  name?: string;
}

const withName = (cmd: Command) =>
  cmd
    .argument('<file>', 'a topology YAML file (docs/lab.md)')
    .option('--name <name>', "run the lab under another name than the file's");

export function labCommand(): Command {
  const lab = new Command('lab').description(
    'a virtual internet of network namespaces to test probing against (root only; docs/lab.md)',
  );

  const up = withName(new Command('up')).description('build the lab, replacing leftovers of the same name');
  up.action(
    runCommand(async (file: string, flags: LabFlags) => {
      const started = performance.now();
      const built = await buildLab(loadTopology(file), flags);
      process.stdout.write(
        `lab ${built.name}: ${built.plan.nodes.size} namespaces built in ${Math.round(performance.now() - started)} ms\n`,
      );
      process.stdout.write(describeNodes(built));
      const nodes = [...built.plan.nodes.values()];
      const from = nodes.find((n) => n.kind === 'host') ?? nodes[0]!;
      const to = nodes.findLast((n) => n !== from);
      if (to)
        process.stdout.write(
          `\nrun a command in a node:  ip netns exec ${from.ns} ping -c1 ${to.lo[0] ? loAddress(to.lo[0]) : built.addressOf(to.name)}\n`,
        );
      process.stdout.write(
        `tear it down:             hopmap lab down ${file}${flags.name ? ` --name ${flags.name}` : ''}\n`,
      );
    }),
  );

  const down = withName(new Command('down')).description("delete the lab's namespaces (idempotent)");
  down.action(
    runCommand(async (file: string, flags: LabFlags) => {
      const handle = openLab(loadTopology(file), flags);
      const removed = await handle.teardown();
      process.stdout.write(
        removed.length > 0
          ? `lab ${handle.name}: removed ${removed.join(' ')}\n`
          : `lab ${handle.name}: nothing to remove\n`,
      );
    }),
  );

  const truth = withName(new Command('truth'))
    .description("print the lab's true router-level links and each node's addresses, without building it")
    .option('--from <node>', 'also print the hop sequences a traceroute from this node sees (with --to)')
    .option('--to <address>', 'the traceroute destination for --from')
    .option('--json', 'print JSON');
  truth.action(
    runCommand((file: string, flags: LabFlags & { from?: string; to?: string; json?: boolean }) => {
      const handle = openLab(loadTopology(file), flags);
      if (Boolean(flags.from) !== Boolean(flags.to)) throw new Error('--from and --to go together');
      const paths = flags.from && flags.to ? handle.truth().truePaths(flags.from, flags.to) : undefined;
      if (flags.json) {
        const nodes = [...handle.plan.nodes.values()].map((n) => ({
          name: n.name,
          kind: n.kind,
          icmp: n.icmp,
          namespace: n.ns,
          interfaces: n.interfaces.map((i) => ({
            name: i.ifname,
            address: i.address,
            subnet: i.subnet.cidr,
            peer: i.peer,
          })),
          lo: n.lo.map((p) => p.cidr),
        }));
        process.stdout.write(
          `${JSON.stringify({ name: handle.name, nodes, links: handle.truth().trueLinks(), ...(paths && { paths }) }, null, 2)}\n`,
        );
        return;
      }
      process.stdout.write(`lab ${handle.name}\n\nnodes\n${describeNodes(handle)}\nlinks\n`);
      process.stdout.write(
        table(
          handle
            .truth()
            .trueLinks()
            .map((l) => [`${l.a} - ${l.b}`, `${l.aAddress} - ${l.bAddress}`, l.subnet]),
        ),
      );
      if (paths) {
        process.stdout.write(`\ntraceroute ${flags.from} -> ${flags.to}: ${paths.length} path(s)\n`);
        for (const p of paths) process.stdout.write(`  ${p.map((hop) => hop ?? '*').join('  ')}\n`);
      }
    }),
  );

  return lab
    .addCommand(up)
    .addCommand(down)
    .addCommand(truth)
    .addCommand(linkCommand())
    .addCommand(icmpCommand())
    .addCommand(labRunCommand())
    .addCommand(labReportCommand())
    .addCommand(labMapCommand());
}

function linkCommand(): Command {
  const cmd = withName(new Command('link'))
    .description(
      'set a link of the built lab down or up and reinstall every route as if a routing protocol converged (root only)',
    )
    .argument('<a>', 'a node at one end')
    .argument('<b>', 'the node at the other end')
    .option('--down', 'take the link down')
    .option('--up', 'bring it up again');
  return cmd.action(
    runCommand(async (file: string, a: string, b: string, flags: LabFlags & { down?: boolean; up?: boolean }) => {
      if (Boolean(flags.down) === Boolean(flags.up)) throw new LabStateError('say --down or --up');
      const state: LinkState = flags.down ? 'down' : 'up';
      const handle = openLab(loadTopology(file), flags);
      findLink(handle.plan, a, b);
      // This process did not make the earlier changes: the kernel knows which links are down.
      await handle.readState();
      const started = performance.now();
      await handle.setLink(a, b, state);
      const down = handle.downLinks().map((l) => `${l.a} - ${l.b}`);
      process.stdout.write(
        `lab ${handle.name}: link ${a} - ${b} ${state}; routes of ${handle.plan.nodes.size} nodes reinstalled in ${Math.round(performance.now() - started)} ms\n`,
      );
      process.stdout.write(`links down: ${down.length > 0 ? down.join(', ') : 'none'}\n`);
    }),
  );
}

const ICMP_MODES: readonly IcmpMode[] = ['normal', 'silent', 'ratelimited', 'ratelimited-cisco'];

function icmpCommand(): Command {
  const cmd = withName(new Command('icmp'))
    .description(
      'change how a node of the built lab sends ICMP errors: normal, silent, ratelimited or ratelimited-cisco (root only)',
    )
    .argument('<node>', 'the node')
    .argument('<mode>', ICMP_MODES.join(' | '));
  return cmd.action(
    runCommand(async (file: string, name: string, mode: string, flags: LabFlags) => {
      if (!ICMP_MODES.includes(mode as IcmpMode))
        throw new LabStateError(`icmp mode "${mode}": use ${ICMP_MODES.join(', ')}`);
      const handle = openLab(loadTopology(file), flags);
      const node = findNode(handle.plan, name);
      await handle.readState();
      const before = node.icmp;
      await handle.setIcmp(name, mode as IcmpMode);
      process.stdout.write(`lab ${handle.name}: ${name} icmp ${before} -> ${mode}\n`);
    }),
  );
}

function describeNodes(lab: Lab): string {
  return table(
    [...lab.plan.nodes.values()].map((n) => [
      n.name,
      n.icmp === 'normal' ? n.kind : `${n.kind} (${n.icmp})`,
      n.ns,
      [
        ...n.interfaces.map((i) => `${i.ifname} ${i.address}/${i.subnet.prefixLength}`),
        ...n.lo.map((p) => `lo ${p.cidr}`),
      ].join(', '),
    ]),
  );
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => r[c]!.length))) ?? [];
  return rows
    .map((r) => `  ${r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ')}\n`)
    .join('');
}
