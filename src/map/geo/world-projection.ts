import { createRequire } from 'node:module';
import { geoEqualEarth, geoPath, type GeoPermissibleObjects } from 'd3-geo';
import { feature } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';

const require = createRequire(import.meta.url);

/** The world map's SVG user space: Equal Earth (equal-area, so a country's size on the map is its size) fitted to 960 wide. */
export const MAP_WIDTH = 960;
const sphere: GeoPermissibleObjects = { type: 'Sphere' };
export const projection = geoEqualEarth().fitWidth(MAP_WIDTH, sphere);
export const MAP_HEIGHT = Math.ceil(geoPath(projection).bounds(sphere)[1][1]);

/** SVG path data for a GeoJSON object; one decimal is a tenth of a pixel at the map's own size. */
export const svgPath = (o: GeoPermissibleObjects) => geoPath(projection).digits(1)(o) ?? '';

/** [x, y] in the map's user space of a [lon, lat]. */
export const projectPoint = (p: [number, number]) => projection(p)!;

let outline: { sphere: string; countries: Array<{ name: string; d: string }> } | undefined;

/**
 * The globe and the 1:110m Natural Earth countries (world-atlas, 108 KB): small enough to draw in every page (the
 * finer 1:50m shapes place the points, src/map/geo/country-points.ts). Projected once per process.
 */
export function worldOutline(): { sphere: string; countries: Array<{ name: string; d: string }> } {
  if (outline) return outline;
  const topo = require('world-atlas/countries-110m.json') as Topology<{
    countries: GeometryCollection<{ name: string }>;
  }>;
  const countries = feature(topo, topo.objects.countries).features.map((f) => ({
    name: f.properties.name,
    d: svgPath(f),
  }));
  outline = { sphere: svgPath(sphere), countries };
  return outline;
}
