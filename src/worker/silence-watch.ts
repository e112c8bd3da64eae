/**
 * A worker that has never heard one answer. With no network at all every probe goes unanswered, and without
 * this watch the worker would lease its whole target list and report every target as "no answer", while
 * /health said all was well: the isolation guard (isolation-guard.ts) can only judge a cut once some target
 * has answered, because it checks the network by pinging addresses that answered before.
 *
 * The watch counts the pings sent and the answers heard since start. Once `probes` pings to at least
 * `targets` distinct targets have gone unanswered with no answer ever heard, the worker has no answers:
 * /health says degraded with the figures, one warning is logged, and the probe loop trickles (small batches,
 * further and further apart) so the worker does not burn its target list. The first answer ends it for
 * good, with one info line; a worker that later loses its network is the isolation guard's business.
 */

export interface SilenceThresholds {
  /** Unanswered pings before the worker says it has no answers; 0 turns the watch off. */
  probes: number;
  /** Distinct targets among them: a few dead targets pinged many times prove nothing. */
  targets: number;
}

export const DEFAULT_SILENCE: SilenceThresholds = { probes: 200, targets: 20 };

/** Targets fetched per batch while the worker has no answers. */
export const TRICKLE_BATCH = 10;
/** The longest wait between batches while it has no answers: how late it notices a network that came up. */
export const TRICKLE_MAX_WAIT_MS = 5 * 60_000;

/** Distinct unanswered targets remembered at most: the figure on /health stops growing there. */
const MAX_TRACKED_TARGETS = 100_000;

/** The wait before the `n`th batch (from 0) fetched while the worker has no answers: the interval, doubling. */
export function trickleWaitMs(intervalMs: number, n: number): number {
  return Math.max(intervalMs, Math.min(intervalMs * 2 ** Math.min(n, 30), TRICKLE_MAX_WAIT_MS));
}

export type SilenceState = 'off' | 'listening' | 'no_answers' | 'heard';

export interface SilenceStatus {
  /** listening: no answer yet, thresholds not reached; no_answers: reached; heard: an answer came. */
  state: SilenceState;
  probes_sent: number;
  answers_heard: number;
  /** Distinct targets pinged before the first answer (all of them unanswered). */
  unanswered_targets: number;
  /** Pings sent before the first answer (all of them unanswered). */
  unanswered_probes: number;
  first_probe_at: string | null;
  first_answer_at: string | null;
  /** When the worker started saying it has no answers; null in the other states. */
  since: string | null;
}

/** What the watch logs with: a pino logger fits. */
export interface SilenceLog {
  warn(fields: object, msg: string): void;
  info(fields: object, msg: string): void;
}

export interface SilenceWatchOptions {
  thresholds: SilenceThresholds;
  log: SilenceLog;
  now?: () => number;
  onChange?: (noAnswers: boolean) => void;
}

export class SilenceWatch {
  private sent = 0;
  private heard = 0;
  private unansweredProbes = 0;
  private readonly targets = new Set<string>();
  private targetCount = 0;
  private firstProbeAt?: number;
  private firstAnswerAt?: number;
  private silentSince?: number;
  private readonly now: () => number;

  constructor(private readonly opts: SilenceWatchOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** True while the worker has no answers (thresholds reached, none heard). */
  get silent(): boolean {
    return this.silentSince !== undefined;
  }

  /** One ping to `target`, answered or not. */
  probe(target: string, answered: boolean): void {
    const now = this.now();
    this.firstProbeAt ??= now;
    this.sent++;
    if (answered) {
      this.heard++;
      if (this.firstAnswerAt === undefined) this.firstHeard(now);
      return;
    }
    if (this.firstAnswerAt !== undefined) return;
    this.unansweredProbes++;
    if (this.targets.size < MAX_TRACKED_TARGETS) this.targets.add(target);
    this.targetCount = this.targets.size;
    if (this.silentSince === undefined && this.reached()) {
      this.silentSince = now;
      this.opts.log.warn(
        {
          probes: this.unansweredProbes,
          targets: this.targetCount,
          firstProbeAt: iso(this.firstProbeAt),
          trickleBatch: TRICKLE_BATCH,
        },
        'no answer to any probe since the worker started: is its network up? /health says degraded (no_answers); leasing slowed to small batches further and further apart until an answer comes',
      );
      this.opts.onChange?.(true);
    }
  }

  status(): SilenceStatus {
    return {
      state: this.state(),
      probes_sent: this.sent,
      answers_heard: this.heard,
      unanswered_targets: this.targetCount,
      unanswered_probes: this.unansweredProbes,
      first_probe_at: iso(this.firstProbeAt),
      first_answer_at: iso(this.firstAnswerAt),
      since: iso(this.silentSince),
    };
  }

  private state(): SilenceState {
    if (this.firstAnswerAt !== undefined) return 'heard';
    if (this.silentSince !== undefined) return 'no_answers';
    return this.opts.thresholds.probes > 0 ? 'listening' : 'off';
  }

  private reached(): boolean {
    const t = this.opts.thresholds;
    return t.probes > 0 && this.unansweredProbes >= t.probes && this.targetCount >= t.targets;
  }

  private firstHeard(now: number): void {
    this.firstAnswerAt = now;
    // Only the count is needed from now on.
    this.targets.clear();
    if (this.silentSince === undefined) return;
    this.opts.log.info(
      {
        silentMs: now - this.silentSince,
        unansweredProbes: this.unansweredProbes,
        unansweredTargets: this.targetCount,
      },
      'first answer heard: the network works; /health no longer degraded for no_answers, leasing back to normal',
    );
    this.silentSince = undefined;
    this.opts.onChange?.(false);
  }
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}
