import type { Logger } from '../log/create-logger.js';
import { mayBeTheBatch } from './find-poison.js';
import type { ResultQuarantine } from './result-quarantine.js';
import type { SendOutcome } from './result-sinks.js';

/**
 * One try of every quarantined result, each sent alone, oldest first. A result the output stores (or names
 * as bad) leaves the quarantine; a 5xx keeps it for the next try; an answer that says the output is away
 * ends the try. Returns how many left.
 */
export async function retryQuarantined(
  quarantine: ResultQuarantine,
  send: (items: readonly object[]) => Promise<SendOutcome>,
  { log, signal }: { log: Logger; signal: AbortSignal },
): Promise<number> {
  let through = 0;
  for (const item of [...quarantine.items()]) {
    if (signal.aborted) break;
    const outcome = await send([item]);
    const id = (item as { id?: unknown }).id;
    if (outcome.ok) {
      const rejected = (outcome.rejected?.length ?? 0) > 0;
      await quarantine.release(item, { rejected });
      if (rejected)
        log.error(
          { id, error: outcome.rejected![0]!.error },
          'the receiver rejected a quarantined result; it will not be sent again',
        );
      else log.info({ id }, 'a quarantined result was delivered');
      through++;
      continue;
    }
    if (!mayBeTheBatch(outcome)) break;
  }
  if (quarantine.size)
    log.warn(
      { quarantined: quarantine.size, delivered: through },
      'results still quarantined: the output fails on them',
    );
  return through;
}
