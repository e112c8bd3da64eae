import { removeStaleLabs } from '../../src/lab/remove-stale-labs.js';

/** A lab name for this test process, `<tag><pid>`, so that test files running at once never share a namespace. */
export function testLabName(tag: string): string {
  return `${tag}${process.pid}`;
}

/** Removes labs `<tag><pid>` of test runs that died before their `after` hook. */
export const removeStaleTestLabs = (tag: string): Promise<string[]> => removeStaleLabs(tag);
