import dgram from 'node:dgram';

const cache = new Map<string, Promise<string>>();
const CACHE_LIMIT = 10_000;

/**
 * The local address the kernel would use to reach `dst` (connecting a UDP socket sends nothing), needed
 * for the TCP checksum's pseudo-header of hand-built probes.
 */
export function sourceAddressFor(dst: string): Promise<string> {
  let found = cache.get(dst);
  if (!found) {
    // One entry per destination traced with tcp-syn: bounded, or a worker running for months keeps millions.
    if (cache.size >= CACHE_LIMIT) cache.clear();
    found = new Promise((resolve, reject) => {
      const socket = dgram.createSocket('udp4');
      socket.on('error', reject);
      socket.connect(9, dst, () => {
        const { address } = socket.address();
        socket.close();
        resolve(address);
      });
    });
    cache.set(dst, found);
    found.catch(() => cache.delete(dst));
  }
  return found;
}

/**
 * Why no probe can leave toward `dst`, or undefined when the kernel has a route to it: connecting a UDP socket
 * asks the routing table and sends nothing (ENETUNREACH: no route; an IPv6 target on a host without IPv6 fails
 * the same way). Not cached: a route may come and go.
 */
export function routeProblem(dst: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket(dst.includes(':') ? 'udp6' : 'udp4');
    socket.on('error', (err: NodeJS.ErrnoException) => {
      socket.close();
      resolve(`no route to ${dst}: ${err.code ?? err.message}`);
    });
    socket.connect(9, dst, () => {
      // IPv6 connects without a route too, but gets no source address: the same refusal, found later.
      const { address } = socket.address();
      socket.close();
      resolve(
        address === '::' || address === '0.0.0.0' ? `no route to ${dst}: ENETUNREACH (no source address)` : undefined,
      );
    });
  });
}
