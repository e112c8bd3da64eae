import { createHash } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseTarget, type Block } from '../net/ip-address.js';

export interface TargetLine {
  line: number;
  block: Block;
}

export interface TargetFile {
  /** The file name: what identifies the source across machines, so re-importing it anywhere reconciles. */
  source: string;
  path: string;
  sha256: string;
  lines: number;
  blocks: TargetLine[];
  /** `file:line: reason` for every line that is not a CIDR or address. */
  errors: string[];
  duplicates: number;
}

/** The .txt files of a directory (sorted), or the file itself. */
export async function listTargetFiles(path: string): Promise<string[]> {
  const info = await stat(path).catch(() => {
    throw new Error(`${path}: no such file or directory`);
  });
  if (!info.isDirectory()) return [path];
  const names = (await readdir(path)).filter((n) => n.endsWith('.txt')).sort();
  return names.map((n) => join(path, n));
}

/** One CIDR or address per line; `#` starts a comment; blank lines are ignored. */
export async function readTargetFile(path: string): Promise<TargetFile> {
  const text = await readFile(path, 'utf8');
  const result: TargetFile = {
    source: basename(path),
    path,
    sha256: createHash('sha256').update(text).digest('hex'),
    lines: 0,
    blocks: [],
    errors: [],
    duplicates: 0,
  };
  const seen = new Set<string>();
  const lines = text.split(/\r?\n/);
  result.lines = lines.length - (lines.at(-1) === '' ? 1 : 0);
  lines.forEach((raw, i) => {
    const content = raw.replace(/#.*/, '').trim();
    if (!content) return;
    const parsed = parseTarget(content);
    if (!parsed.ok) {
      result.errors.push(`${path}:${i + 1}: ${parsed.reason}`);
      return;
    }
    if (seen.has(parsed.block.cidr)) {
      result.duplicates++;
      return;
    }
    seen.add(parsed.block.cidr);
    result.blocks.push({ line: i + 1, block: parsed.block });
  });
  return result;
}
