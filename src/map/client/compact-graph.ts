/**
 * The graph page's wire format (GET /api/map/graph-view): the interface graph in one answer, as columns of
 * numbers indexing into a node list, so 100,000 nodes and links are a few MB of JSON the browser parses in
 * one go rather than ten keyset pages of objects repeating every address.
 */
export interface CompactGraph {
  /** Addresses, the node ids; `near`/`far` index into this. */
  nodes: string[];
  /** Per node, an index into `ases`, or -1 when enrichment placed it in no AS. */
  nodeAs: number[];
  /** Per node, an index into `countries`, or -1. */
  nodeCountry: number[];
  ases: { asn: number; org: string | null }[];
  countries: string[];
  near: number[];
  far: number[];
  /** Per link: traces that crossed it, and the RTT step across it (far minus near), whole µs. */
  count: number[];
  deltaMinUs: number[];
  deltaMeanUs: number[];
  deltaMaxUs: number[];
  /** More links matched than `limit`: the graph shows the first ones in (near, far) order. */
  truncated: boolean;
}
