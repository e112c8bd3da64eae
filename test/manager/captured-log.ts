import pino from 'pino';
import type { Logger } from '../../src/log/create-logger.js';

/** A logger with createLogger's JSON format whose lines the test reads back. */
export function capturedLogger(): {
  log: Logger;
  lines: string[];
  authFailures: () => Array<{ ip: string; user: string; reason: string; msg: string }>;
} {
  const lines: string[] = [];
  const log = pino(
    { level: 'info', base: { service: 'manager' }, timestamp: pino.stdTimeFunctions.isoTime },
    { write: (line: string) => void lines.push(line.trimEnd()) },
  );
  const authFailures = () =>
    lines
      .map((l) => JSON.parse(l) as { ip: string; user: string; reason: string; msg: string })
      .filter((l) => l.msg.startsWith('AUTH_FAILURE '));
  return { log, lines, authFailures };
}
