/**
 * The Multipath Detection Algorithm's stopping rule (Veitch et al., "Failure control in multipath route
 * tracing", 2009): having seen k next-hop interfaces, keep sending new flows until n_k probes, the number
 * after which a (k+1)th interface, were there one taking an equal share of flows, would have been seen
 * with probability at least `confidence`. By inclusion–exclusion, n probes spread uniformly over k+1
 * interfaces miss at least one of them with probability
 *   P(n) = Σ_{i=1..k} (-1)^{i+1} C(k+1, i) ((k+1-i)/(k+1))^n,
 * and n_k is the least n with P(n) ≤ 1 - confidence. At 95%: 6, 11, 16, 21, 27, 33, 38, 44, 51, 57 for
 * k = 1..10, the table of the MDA paper and of scamper's tracelb.
 */
export function stoppingPoint(k: number, confidence = 0.95): number {
  const alpha = 1 - confidence;
  const m = k + 1;
  for (let n = m; n < 10_000; n++) {
    let p = 0;
    let binom = 1;
    for (let i = 1; i <= k; i++) {
      binom = (binom * (m - i + 1)) / i;
      p += (i % 2 === 1 ? 1 : -1) * binom * ((m - i) / m) ** n;
    }
    if (p <= alpha) return n;
  }
  return 10_000;
}
