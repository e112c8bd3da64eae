import dgram from 'node:dgram';

const cache = new Map<string, Promise<string>>();

/**
 * The local address the kernel would use to reach `dst` (connecting a UDP socket sends nothing), needed
 * for the TCP checksum's pseudo-header of hand-built probes.
 */
export function sourceAddressFor(dst: string): Promise<string> {
  let found = cache.get(dst);
  if (!found) {
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
