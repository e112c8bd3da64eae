import type { ScriptedNetwork, ScriptedRouter } from './scripted-network.js';

export const DST = '192.0.2.9';

const net = (routers: Record<string, ScriptedRouter>, extra: Partial<ScriptedNetwork> = {}): ScriptedNetwork => ({
  first: 'A',
  dst: DST,
  routers,
  ...extra,
});

/** Load-balanced topologies as MDA papers draw them; router names stand in for addresses. */
export const DIAMONDS: Record<string, ScriptedNetwork> = {
  '2-way diamond': net({ A: { next: ['B1', 'B2'] }, B1: { next: ['C'] }, B2: { next: ['C'] }, C: { next: [DST] } }),
  '4-way diamond': net({
    A: { next: ['B1', 'B2', 'B3', 'B4'] },
    B1: { next: ['C'] },
    B2: { next: ['C'] },
    B3: { next: ['C'] },
    B4: { next: ['C'] },
    C: { next: [DST] },
  }),
  'nested diamond (a 2-way inside one branch of a 2-way)': net({
    A: { next: ['B1', 'B2'] },
    B1: { next: ['C1', 'C2'] },
    B2: { next: ['C3'] },
    C1: { next: ['E'] },
    C2: { next: ['E'] },
    C3: { next: ['E'] },
    E: { next: [DST] },
  }),
  'nested 4-way inside one branch of a 2-way': net({
    A: { next: ['B1', 'B2'] },
    B1: { next: ['C1', 'C2', 'C3', 'C4'] },
    B2: { next: ['C5'] },
    C1: { next: ['E'] },
    C2: { next: ['E'] },
    C3: { next: ['E'] },
    C4: { next: ['E'] },
    C5: { next: ['E'] },
    E: { next: [DST] },
  }),
  'meshed diamond (both branches balance onto both next routers)': net({
    A: { next: ['B1', 'B2'] },
    B1: { next: ['C1', 'C2'] },
    B2: { next: ['C1', 'C2'] },
    C1: { next: ['E'] },
    C2: { next: ['E'] },
    E: { next: [DST] },
  }),
  'two diamonds in a row': net({
    A: { next: ['B1', 'B2'] },
    B1: { next: ['C'] },
    B2: { next: ['C'] },
    C: { next: ['D1', 'D2', 'D3'] },
    D1: { next: ['E'] },
    D2: { next: ['E'] },
    D3: { next: ['E'] },
    E: { next: [DST] },
  }),
};
