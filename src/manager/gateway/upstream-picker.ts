import type { UpstreamType } from './find-upstreams.js';

export interface PickerOptions {
  /** How long a list from the database is reused (default 2 s): one query per burst, not per request. */
  cacheMs?: number;
  /** How long an instance that just failed goes to the back of the line (default 30 s). */
  cooldownMs?: number;
  now?: () => number;
}

/**
 * Round robin over the live instances of each type, health-aware twice over: the database says which are
 * alive (heartbeats, registry polls), and an instance that failed a request here is tried last for a while,
 * so one that just died costs one failed attempt rather than one per request until the next poll.
 */
export class UpstreamPicker {
  private readonly cache = new Map<UpstreamType, { at: number; urls: Promise<string[]> }>();
  private readonly failedAt = new Map<string, number>();
  private readonly turn = new Map<UpstreamType, number>();
  private readonly cacheMs: number;
  private readonly cooldownMs: number;
  private readonly now: () => number;

  constructor(
    private readonly find: (type: UpstreamType) => Promise<string[]>,
    opts: PickerOptions = {},
  ) {
    this.cacheMs = opts.cacheMs ?? 2_000;
    this.cooldownMs = opts.cooldownMs ?? 30_000;
    this.now = opts.now ?? Date.now;
  }

  /** The instances to try for one request, in order. */
  async order(type: UpstreamType): Promise<string[]> {
    const urls = await this.list(type);
    if (urls.length === 0) return [];
    const turn = this.turn.get(type) ?? 0;
    this.turn.set(type, turn + 1);
    const rotated = [...urls.slice(turn % urls.length), ...urls.slice(0, turn % urls.length)];
    const cooling = (u: string) => this.now() - (this.failedAt.get(u) ?? -Infinity) < this.cooldownMs;
    return [...rotated.filter((u) => !cooling(u)), ...rotated.filter(cooling)];
  }

  markFailed(url: string): void {
    this.failedAt.set(url, this.now());
  }

  markOk(url: string): void {
    this.failedAt.delete(url);
  }

  private list(type: UpstreamType): Promise<string[]> {
    const hit = this.cache.get(type);
    if (hit && this.now() - hit.at < this.cacheMs) return hit.urls;
    const urls = this.find(type);
    this.cache.set(type, { at: this.now(), urls });
    urls.catch(() => this.cache.delete(type));
    return urls;
  }
}
