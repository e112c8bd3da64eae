/**
 * How big nodes and links are drawn for a graph of `n` nodes and `m` links (sigma sizes: a node's radius in
 * CSS pixels at the first zoom). Small graphs get solid, readable marks; 100,000 nodes get dots and faint links.
 */
export const nodeSize = (n: number) => (n <= 1_000 ? 6 : n <= 20_000 ? 3 : 1.5);

export const SOLID_LINK_COLOUR: readonly [number, number, number] = [154, 163, 174];

export function linkStyle(m: number): { size: number; color: string } {
  return m <= 5_000
    ? { size: 1.5, color: `rgb(${SOLID_LINK_COLOUR.join(', ')})` }
    : { size: 0.5, color: 'rgba(110, 120, 135, 0.25)' };
}

/** Links listed under a node in the info panel, each a button that shows the link. */
export const LISTED_LINKS = 20;
