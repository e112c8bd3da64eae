/** Colour of nodes enrichment placed in no AS. */
export const NO_AS_COLOUR: readonly [number, number, number] = [150, 150, 150];

/**
 * A stable colour per AS number: a hue from a hash of the ASN (so AS64500 looks the same on every load and
 * in every graph), at a saturation and lightness that stand out from the grey links on white. Shared by the
 * page and the tests that look for these colours in screenshots.
 */
export function asColour(asn: number): [number, number, number] {
  // Knuth's multiplicative hash spreads consecutive ASNs (64500, 64501, ...) across the circle.
  const h = (Math.imul(asn >>> 0, 2654435761) >>> 0) / 2 ** 32;
  return hslToRgb(h, 0.7, 0.45);
}

export const cssColour = ([r, g, b]: readonly [number, number, number]) => `rgb(${r}, ${g}, ${b})`;

function hslToRgb(h: number, s: number, l: number): [number, number, number] {
  const q = l < 0.5 ? l * (1 + s) : l + s - l * s;
  const p = 2 * l - q;
  const channel = (t: number) => {
    t = (t + 1) % 1;
    const v = t < 1 / 6 ? p + (q - p) * 6 * t : t < 1 / 2 ? q : t < 2 / 3 ? p + (q - p) * (2 / 3 - t) * 6 : p;
    return Math.round(v * 255);
  };
  return [channel(h + 1 / 3), channel(h), channel(h - 1 / 3)];
}
