/**
 * A step coprime with n (near n times the golden ratio): i → i·step mod n visits every index once, evenly spread,
 * so any prefix of that order is an even sample. The graph page adds a large graph's nodes in this order
 * (big-graph-programs.ts draws only the first ones while the camera moves).
 */
export function scatterStep(n: number): number {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  let step = Math.max(1, Math.round(n * 0.6180339887));
  while (gcd(step, n) !== 1) step++;
  return step;
}
