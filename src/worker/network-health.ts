import type { NetworkState } from './isolation-guard.js';
import { TRICKLE_BATCH, type SilenceStatus } from './silence-watch.js';

/** The isolation guard's part of /health (`IsolationGuard.status()`). */
export interface GuardStatus {
  state: NetworkState;
  since: string | null;
  held_targets: number;
}

/** `network` on the worker's /health. */
export interface NetworkHealth {
  /**
   * ok, or checking (asking canaries): the network answers as far as the worker knows; isolated: it answered
   * once and is now cut off (probing paused); no_answers: it never answered at all; unchecked: no guard and
   * no answer yet.
   */
  state: NetworkState | 'no_answers' | 'unchecked';
  /** When the current isolated or no_answers state began. */
  since: string | null;
  held_targets: number;
  /** Set when the state makes /health degraded: the state, then why, in one sentence (the manager shows it). */
  reason?: string;
  probes_sent: number;
  answers_heard: number;
  first_probe_at: string | null;
  first_answer_at: string | null;
  /** While no answer was ever heard: the distinct targets and pings that went unanswered. */
  unanswered_targets?: number;
  unanswered_probes?: number;
}

/**
 * One network state from the two watchers. They never both complain: the guard can only find the worker
 * isolated by asking addresses that answered before, and the first answer ends the silence watch's part.
 */
export function networkHealth(guard: GuardStatus | undefined, silence: SilenceStatus): NetworkHealth {
  const figures = {
    probes_sent: silence.probes_sent,
    answers_heard: silence.answers_heard,
    first_probe_at: silence.first_probe_at,
    first_answer_at: silence.first_answer_at,
  };
  if (silence.state === 'no_answers')
    return {
      state: 'no_answers',
      since: silence.since,
      held_targets: guard?.held_targets ?? 0,
      reason: `no_answers: none of ${silence.unanswered_probes} probes to ${silence.unanswered_targets} targets was answered since the worker's first probe at ${silence.first_probe_at ?? '?'}; is its network up? Leasing slowed to ${TRICKLE_BATCH} targets a batch until an answer comes`,
      ...figures,
      unanswered_targets: silence.unanswered_targets,
      unanswered_probes: silence.unanswered_probes,
    };
  const unheard =
    silence.state === 'heard'
      ? {}
      : { unanswered_targets: silence.unanswered_targets, unanswered_probes: silence.unanswered_probes };
  if (!guard) return { state: 'unchecked', since: null, held_targets: 0, ...figures, ...unheard };
  return {
    ...guard,
    ...(guard.state === 'isolated' && {
      reason: `isolated: neither targets nor addresses that answered before have answered since ${guard.since ?? '?'}; probing paused, ${guard.held_targets} targets held to be measured again`,
    }),
    ...figures,
    ...unheard,
  };
}
