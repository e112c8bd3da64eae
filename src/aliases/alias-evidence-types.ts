/**
 * What an alias measurement says about a pair of interface addresses: the contract between the worker-side
 * inference (alias-evidence.ts, from an `alias` result) and the router resolution in the output service.
 */
export type AliasMethod = 'discarte' | 'timestamp' | 'mercator' | 'ally';

export interface AliasEvidence {
  /** The pair, in any order (stored with a < b). */
  a: string;
  b: string;
  method: AliasMethod;
  /** `alias`: the two are one router; `distinct`: a test that could tell found them apart. */
  verdict: 'alias' | 'distinct';
}
