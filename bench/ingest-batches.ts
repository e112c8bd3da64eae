import { INGEST_BATCH } from '../src/output/ingest-results.js';
import { resultCopyRow } from './ingest-copy.js';
import { traceBatch } from './ingest-traces.js';

/** One batch per POST or COPY transaction: what the output service stores per transaction. */
export const BATCH = INGEST_BATCH;
/** Distinct batches of traces before the paths repeat (16,000 traces); every batch sent still gets fresh ids. */
const RING = 32;
const ID_PLACEHOLDER = '@@@@@@@@';

/** Serialized text cut at each id's first 8 hex digits, with the index in the batch of the result each cut belongs to. */
interface Pieces {
  parts: string[];
  results: number[];
}

interface Template {
  json: Pieces;
  results: Pieces;
  ids: Pieces;
}

/**
 * Batches of 500 traces, serialized once per ring slot, each use with fresh ids. Why: building and
 * serializing 500 traces costs the bench process ~23 ms, while it shares the machine's cores with the
 * services it measures; splicing fresh ids into the stored text costs 0.2 ms. The ids stay scattered over
 * the key space as random v4 ids are, so result_ids grows as it does in production.
 */
export class TraceBatches {
  private readonly ring: Template[] = [];
  private sent = 0;

  /** The next batch as a JSON array, for POST /results. */
  nextJson(): string {
    const seq = this.sent++;
    return withIds(this.template(seq).json, seq);
  }

  /** The next batch as COPY text rows: measurements.results (id, measured_at, type, worker, target, lease, body) and result_ids (id). */
  nextCopy(): { results: string; ids: string } {
    const seq = this.sent++;
    const t = this.template(seq);
    return { results: withIds(t.results, seq), ids: withIds(t.ids, seq) };
  }

  private template(seq: number): Template {
    const slot = seq % RING;
    return (this.ring[slot] ??= serialize(slot));
  }
}

function serialize(slot: number): Template {
  const batch = traceBatch(slot * BATCH, BATCH).map((r, k) => ({
    ...r,
    id: `${ID_PLACEHOLDER}-0000-4000-8000-${k.toString(16).padStart(12, '0')}`,
  }));
  return {
    json: cut(JSON.stringify(batch)),
    results: cut(batch.map(resultCopyRow).join('')),
    ids: cut(batch.map((r) => `${r.id}\n`).join('')),
  };
}

function cut(text: string): Pieces {
  const parts = text.split(ID_PLACEHOLDER);
  // Each piece after the first starts with the rest of its id, "-0000-4000-8000-" and the index in 12 hex digits.
  return { parts, results: parts.map((p) => parseInt(p.slice(20, 32), 16)) };
}

/** The same id in every place a result's id appears (column and body); a bijective hash scatters the ids of one batch. */
function withIds(t: Pieces, seq: number): string {
  let text = t.parts[0]!;
  for (let i = 1; i < t.parts.length; i++) text += hex8(mix32(seq * BATCH + t.results[i]!)) + t.parts[i]!;
  return text;
}

/** murmur3's finalizer: a bijection on 32-bit integers, so distinct inputs give distinct ids. */
function mix32(n: number): number {
  let h = n >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const hex8 = (n: number) => n.toString(16).padStart(8, '0');
