import { createRequire } from 'node:module';
import { geoArea, geoBounds, geoCentroid, geoContains } from 'd3-geo';
import type { Feature, MultiPolygon, Polygon, Position } from 'geojson';
import { whereAlpha2 } from 'iso-3166-1';
import { feature } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';

export type CountryShape = Feature<Polygon | MultiPolygon, { name: string }>;

const require = createRequire(import.meta.url);

/** Natural Earth codes that ISO 3166-1 has no numeric code for, by the atlas's name. */
const BY_NAME: Readonly<Record<string, string>> = { XK: 'Kosovo' };

let shapes: Map<string, CountryShape> | undefined;

/**
 * The 1:50m Natural Earth countries of world-atlas (756 KB, loaded once on first use), by ISO numeric code and by
 * name. 1:50m rather than 1:110m because the latter drops small countries (Singapore, Malta, Bahrain…) that do
 * carry many routers. French overseas departments, Gibraltar and a few islands have no shape of their own there.
 */
function countryShapes(): Map<string, CountryShape> {
  if (shapes) return shapes;
  const topo = require('world-atlas/countries-50m.json') as Topology<{
    countries: GeometryCollection<{ name: string }>;
  }>;
  const fc = feature(topo, topo.objects.countries);
  shapes = new Map();
  for (const f of fc.features as CountryShape[]) {
    // Two shapes share Australia's code (Ashmore and Cartier Is.): the code means the larger.
    const have = f.id === undefined ? undefined : shapes.get(`#${f.id}`);
    if (f.id !== undefined && (!have || largestPolygon(f).area > largestPolygon(have).area)) shapes.set(`#${f.id}`, f);
    shapes.set(f.properties.name, f);
  }
  return shapes;
}

/** The Natural Earth shape of an ISO 3166-1 alpha-2 country, or null when the atlas has none. */
export function countryShape(alpha2: string): CountryShape | null {
  const code = alpha2.toUpperCase();
  const name = BY_NAME[code];
  if (name) return countryShapes().get(name) ?? null;
  const numeric = whereAlpha2(code)?.numeric;
  return (numeric && countryShapes().get(`#${numeric}`)) || null;
}

const points = new Map<string, [number, number] | null>();

/**
 * Where a hop in this country is drawn: a point inside the country's largest polygon (its centroid when that lies
 * inside, as it does for most; otherwise the inside point of a grid over the polygon nearest to the centroid, for
 * crescent shapes like Chile's or Croatia's). [lon, lat]; null when the atlas has no shape for the code.
 */
export function countryPoint(alpha2: string): [number, number] | null {
  const code = alpha2.toUpperCase();
  if (points.has(code)) return points.get(code)!;
  const shape = countryShape(code);
  const point = shape ? insidePoint(largestPolygon(shape).p) : null;
  points.set(code, point);
  return point;
}

/**
 * The polygon of largest area, wound as d3-geo reads it. A few islands of the atlas are wound the other way (d3
 * takes them for the whole globe but the island: Australia's largest "polygon" was the sea around one), so a
 * polygon over half the sphere is turned around before it is measured.
 */
function largestPolygon(shape: CountryShape): { p: Feature<Polygon>; area: number } {
  const rings: Position[][][] =
    shape.geometry.type === 'Polygon' ? [shape.geometry.coordinates] : shape.geometry.coordinates;
  const polygons = rings.map((coordinates) => {
    const p: Feature<Polygon> = { type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates } };
    if (geoArea(p) <= 2 * Math.PI) return { p, area: geoArea(p) };
    const turned: Feature<Polygon> = {
      ...p,
      geometry: { type: 'Polygon', coordinates: coordinates.map((ring) => [...ring].reverse()) },
    };
    return { p: turned, area: geoArea(turned) };
  });
  return polygons.reduce((a, b) => (b.area > a.area ? b : a));
}

const round = (p: [number, number]): [number, number] => [Math.round(p[0] * 1e4) / 1e4, Math.round(p[1] * 1e4) / 1e4];

function insidePoint(polygon: Feature<Polygon>): [number, number] {
  const centroid = round(geoCentroid(polygon));
  if (geoContains(polygon, centroid)) return centroid;
  const [[west, south], [east, north]] = geoBounds(polygon);
  const span = east >= west ? east - west : east + 360 - west;
  let best: [number, number] | null = null;
  let bestDistance = Infinity;
  for (let steps = 16; !best && steps <= 256; steps *= 4) {
    for (let i = 0; i <= steps; i++) {
      for (let j = 0; j <= steps; j++) {
        let lon = west + (span * i) / steps;
        if (lon > 180) lon -= 360;
        const p = round([lon, south + ((north - south) * j) / steps]);
        if (!geoContains(polygon, p)) continue;
        const d = (p[0] - centroid[0]) ** 2 + (p[1] - centroid[1]) ** 2;
        if (d < bestDistance) [best, bestDistance] = [p, d];
      }
    }
  }
  // A polygon too thin for a 256×256 grid: one of its own vertices is on it, which is still that country.
  return best ?? round(polygon.geometry.coordinates[0]![0] as [number, number]);
}

/** An ISO 3166-1 alpha-2 code in upper case as enrichment stores it, or Kosovo's XK that DB-IP uses too. */
export const isCountryCode = (code: string) =>
  /^[A-Z]{2}$/.test(code) && (code in BY_NAME || whereAlpha2(code) !== undefined);
