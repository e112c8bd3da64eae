import type { Feature, LineString, MultiLineString, Point, Position } from 'geojson';
import type { AddressDetails } from '../graph/address-info.js';
import type { LinkView } from '../graph/interface-graph.js';

/** Every location hopmap has is a country's representative point (src/map/geo/country-points.ts), never a city. */
export const LOCATION_PRECISION = 'country';

export type HopFeature = Feature<
  Point,
  AddressDetails & { kind: 'hop'; address: string; location_precision: typeof LOCATION_PRECISION }
>;

export type LinkFeature = Feature<
  LineString | MultiLineString,
  Omit<LinkView, 'first_seen_at' | 'last_seen_at'> & {
    kind: 'link';
    first_seen_at: string;
    last_seen_at: string;
    near_country: string;
    far_country: string;
    location_precision: typeof LOCATION_PRECISION;
  }
>;

export function hopFeature(address: string, d: AddressDetails, at: Position): HopFeature {
  return {
    type: 'Feature',
    id: address,
    geometry: { type: 'Point', coordinates: at },
    properties: {
      kind: 'hop',
      address,
      asn: d.asn,
      as_org: d.as_org,
      country: d.country,
      location_precision: LOCATION_PRECISION,
    },
  };
}

export function linkFeature(
  l: LinkView,
  near: { country: string; at: Position },
  far: { country: string; at: Position },
): LinkFeature {
  return {
    type: 'Feature',
    id: `${l.near} ${l.far}`,
    geometry: lineAcrossAntimeridian(near.at, far.at),
    properties: {
      kind: 'link',
      ...l,
      first_seen_at: new Date(l.first_seen_at).toISOString(),
      last_seen_at: new Date(l.last_seen_at).toISOString(),
      near_country: near.country,
      far_country: far.country,
      location_precision: LOCATION_PRECISION,
    },
  };
}

/**
 * The shorter way between two points as GeoJSON draws lines (straight in lon/lat): a line that would cross the
 * antimeridian is cut there into two parts, as RFC 7946 section 3.1.9 asks, instead of running across the map.
 */
export function lineAcrossAntimeridian(a: Position, b: Position): LineString | MultiLineString {
  const [lon1, lat1] = a as [number, number];
  const [lon2, lat2] = b as [number, number];
  if (Math.abs(lon2 - lon1) <= 180) return { type: 'LineString', coordinates: [a, b] };
  const edge = lon1 > 0 ? 180 : -180;
  const lon2Unwrapped = lon2 + (lon1 > 0 ? 360 : -360);
  const lat = Math.round((lat1 + ((lat2 - lat1) * (edge - lon1)) / (lon2Unwrapped - lon1)) * 1e4) / 1e4;
  return {
    type: 'MultiLineString',
    coordinates: [
      [a, [edge, lat]],
      [[-edge, lat], b],
    ],
  };
}
