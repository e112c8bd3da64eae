import net from 'node:net';
import { microseconds } from '../probe/probe-reply.js';

export interface TcpPingAnswer {
  port: number;
  rttUs: number;
  /** A refused connection (RST) is an answer too: the host is there. */
  outcome: 'open' | 'refused';
}

/**
 * Times a TCP handshake to `dst:port` on a monotonic clock: the SYN-ACK (or RST) is the reply. Needs no
 * privileges, so it is the fallback when raw sockets are not allowed.
 */
export function tcpPing(dst: string, port: number, timeoutMs: number): Promise<TcpPingAnswer | undefined> {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const socket = net.connect({ host: dst, port, noDelay: true });
    const done = (answer: TcpPingAnswer | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.once('connect', () =>
      done({ port, rttUs: microseconds(started, process.hrtime.bigint()), outcome: 'open' }),
    );
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const at = process.hrtime.bigint();
      done(err.code === 'ECONNREFUSED' ? { port, rttUs: microseconds(started, at), outcome: 'refused' } : undefined);
    });
  });
}
