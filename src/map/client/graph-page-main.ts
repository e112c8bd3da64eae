/**
 * The graph page in the browser: fetches the compact graph, places every node at once by AS (layout-by-as.ts),
 * and draws it with sigma (WebGL). Search zooms to an address or an AS; hovering or clicking a node or link
 * shows it in the info panel. When the first frame with every node is drawn, `#graph-view` gets
 * `data-rendered-at` (ms since navigation) and counts, which the browser test and the bench wait for; each
 * frame bumps `data-renders`, and each frame drawn with the camera still sets `data-still-at`.
 *
 * Past LARGE links the page draws with big-graph-programs.ts (lighter frames while moving, links within an AS
 * only when zoomed in). `?smooth=off` draws a large graph as the page did before that, the bench's baseline.
 */
import { DirectedGraph } from 'graphology';
import Sigma from 'sigma';
import { EdgeLineProgram, NodePointProgram } from 'sigma/rendering';
import { asColour, cssColour, NO_AS_COLOUR } from './as-colour.js';
import { browser, required } from './browser-dom.js';
import type { CompactGraph } from './compact-graph.js';
import { asRows, linkRows, nodeRows, showInfo } from './graph-info.js';
import { LISTED_LINKS, linkStyle, nodeSize as nodeSizeFor } from './graph-style.js';
import { isMoving, linesWhenStill, nodePointsWhileMoving, type Motion } from './big-graph-programs.js';
import { layoutByAs, type AsCluster } from './layout-by-as.js';
import { scatterStep } from './scatter-order.js';

const LEGEND_ASES = 10;
/** Past this many links: the cheapest programs, and links left out while the camera moves so panning stays smooth. */
const LARGE = 20_000;
/**
 * On SwiftShader (no GPU) a frame of 100,000 points takes about 200 ms, so a moving frame draws at most this many
 * (bench/cases/map-render.ts); zoomed out past INTRA_LINKS_BELOW_RATIO only the links between ASes are drawn.
 */
const MOVING_NODES = 20_000;
const INTRA_LINKS_BELOW_RATIO = 0.25;

const root = browser.document.getElementById('graph-view')!;
const container = required(root, '.graph-canvas');
const status = required(root, '.graph-status');
const info = required(root, '.graph-info');
const legend = required(root, '.graph-legend ul');
const form = required(root, 'form.graph-search');
const search = required(form, 'input[name=q]');

async function fetchGraph(url: string): Promise<CompactGraph> {
  const res = await fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } });
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
    throw new Error(body?.error?.message ?? `the graph did not load (HTTP ${res.status})`);
  }
  return (await res.json()) as CompactGraph;
}

async function main(): Promise<void> {
  const g = await fetchGraph(container.dataset.src!);
  const fetchedAt = performance.now();
  const n = g.nodes.length;
  const m = g.near.length;
  if (n === 0) {
    status.textContent = 'No links in the map yet.';
    markRendered(0, 0, fetchedAt, fetchedAt);
    return;
  }

  const layout = layoutByAs(g.nodeAs);
  const asColours = g.ases.map((a) => cssColour(asColour(a.asn)));
  const colourOf = (as: number) => (as < 0 ? cssColour(NO_AS_COLOUR) : asColours[as]!);
  const nodeSize = nodeSizeFor(n);
  const large = m > LARGE;
  const smooth = large && !/[?&]smooth=off\b/.test(browser.location.search);
  const graph = new DirectedGraph({ allowSelfLoops: false });
  // Nodes go in scattered order: sigma draws them in graph order, so the first MOVING_NODES are an even sample.
  const step = smooth ? scatterStep(n) : 1;
  for (let k = 0, i = 0; k < n; k++, i = (i + step) % n) {
    graph.addNode(g.nodes[i]!, {
      x: layout.x[i],
      y: layout.y[i],
      size: nodeSize,
      color: colourOf(g.nodeAs[i]!),
      label: g.nodes[i],
      i,
    });
  }
  const edge = linkStyle(m);
  for (let l = 0; l < m; l++) {
    const type = smooth ? (g.nodeAs[g.near[l]!] === g.nodeAs[g.far[l]!] ? 'intra' : 'inter') : undefined;
    graph.addDirectedEdgeWithKey(String(l), g.nodes[g.near[l]!]!, g.nodes[g.far[l]!]!, {
      size: edge.size,
      color: edge.color,
      type,
    });
  }
  const builtAt = performance.now();

  let selected: string | undefined;
  let hoveredEdge: string | undefined;
  const motion: Motion = { moving: false, movingNodes: MOVING_NODES, intraLinksBelowRatio: INTRA_LINKS_BELOW_RATIO };
  const sigma = new Sigma(graph, container, {
    // A large graph is drawn with the cheapest programs: 1 px GL lines and square points.
    defaultEdgeType: smooth ? 'inter' : large ? 'thin' : 'line',
    defaultNodeType: large ? 'point' : 'circle',
    edgeProgramClasses: smooth
      ? { intra: linesWhenStill(motion, true), inter: linesWhenStill(motion, false) }
      : { thin: EdgeLineProgram },
    nodeProgramClasses: { point: smooth ? nodePointsWhileMoving(motion) : NodePointProgram },
    // Hovering 1 px lines among 100,000 costs a second drawing of every link per frame; a large graph's links
    // are reached from a node's panel instead.
    enableEdgeEvents: !smooth,
    // The programs hide links while moving: sigma's own setting re-indexes the whole graph after every drag.
    hideEdgesOnMove: large && !smooth,
    hideLabelsOnMove: true,
    labelRenderedSizeThreshold: smooth ? 12 : 9,
    // Ordering by z-index would need a full re-index on every selection; the selected node is drawn highlighted on top.
    zIndex: !smooth,
    minCameraRatio: 0.002,
    maxCameraRatio: 4,
    nodeReducer: (node, data) =>
      node === selected ? { ...data, size: (data.size as number) * 2.5, highlighted: true, zIndex: 2 } : data,
    edgeReducer: (edge, data) =>
      edge === hoveredEdge ? { ...data, size: Math.max(3, data.size as number), color: '#1f2933', zIndex: 1 } : data,
  });
  sigma.on('beforeRender', () => {
    motion.moving = isMoving(sigma);
  });
  // The frame after a drag without inertia: sigma clears its drag count in a timeout after mouseup, after the
  // frame it scheduled; draw once more so links come back.
  if (smooth) sigma.getMouseCaptor().on('mouseup', () => setTimeout(() => sigma.scheduleRender(), 0));
  root.dataset.sigmaMs = (performance.now() - builtAt).toFixed(1);

  let renders = 0;
  let first = true;
  const rendered = () => {
    renders++;
    root.dataset.renders = String(renders);
    if (!isMoving(sigma)) root.dataset.stillAt = performance.now().toFixed(1);
    if (!first) return;
    first = false;
    // The frame sigma just drew is on screen once the browser paints the next one.
    browser.requestAnimationFrame(() => markRendered(graph.order, graph.size, fetchedAt, builtAt));
  };
  sigma.on('afterRender', rendered);
  sigma.scheduleRender();

  const extent = Math.max(...layout.clusters.map((c) => Math.hypot(c.x, c.y) + c.radius), 1);
  const toFramed = (x: number, y: number) => sigma.viewportToFramedGraph(sigma.graphToViewport({ x, y }));
  // A large graph re-applies the reducers to the items that changed only: a full refresh re-indexes 100,000 nodes.
  const redraw = (nodes: (string | undefined)[], edges: (string | undefined)[]) => {
    if (!smooth) return void sigma.refresh({ skipIndexation: true });
    const defined = (xs: (string | undefined)[]) => xs.filter((x): x is string => x !== undefined);
    sigma.refresh({ partialGraph: { nodes: defined(nodes), edges: defined(edges) }, skipIndexation: true });
  };
  const select = (node: string | undefined) => {
    const was = selected;
    selected = node;
    redraw([was, node], []);
  };
  const highlightLink = (edge: string | undefined) => {
    const was = hoveredEdge;
    hoveredEdge = edge;
    redraw([], [was, edge]);
    if (edge !== undefined) showInfo(info, 'Link', linkRows(g, Number(edge)));
  };
  const showNode = (node: string) => {
    const i = graph.getNodeAttribute(node, 'i') as number;
    showInfo(info, node, nodeRows(g, i, graph.degree(node)));
    // Its links as buttons: a way to a link's RTT without hitting a 1 px line, and for the keyboard.
    const list = browser.document.createElement('ul');
    list.className = 'graph-links';
    for (const e of graph.edges(node).slice(0, LISTED_LINKS)) {
      const l = Number(e);
      const out = g.nodes[g.near[l]!] === node;
      const li = browser.document.createElement('li');
      const button = browser.document.createElement('button');
      button.type = 'button';
      button.append(
        `${out ? '→' : '←'} ${g.nodes[out ? g.far[l]! : g.near[l]!]}, mean step ${(g.deltaMeanUs[l]! / 1000).toFixed(2)} ms`,
      );
      button.addEventListener('click', () => highlightLink(e));
      li.append(button);
      list.append(li);
    }
    info.append(list);
  };
  const focusNode = async (node: string) => {
    select(node);
    showNode(node);
    const d = sigma.getNodeDisplayData(node)!;
    await sigma.getCamera().animate({ x: d.x, y: d.y, ratio: Math.min(0.5, 16 / extent) }, { duration: 400 });
    root.dataset.focus = node;
  };
  const focusAs = async (c: AsCluster) => {
    select(undefined);
    showInfo(info, c.as < 0 ? 'No AS' : `AS${g.ases[c.as]!.asn}`, asRows(g, c.as, c.count));
    const centre = toFramed(c.x, c.y);
    await sigma
      .getCamera()
      .animate({ ...centre, ratio: Math.min(1, Math.max(0.002, (1.3 * c.radius) / extent)) }, { duration: 400 });
    root.dataset.focus = c.as < 0 ? 'none' : `AS${g.ases[c.as]!.asn}`;
  };

  sigma.on('enterNode', ({ node }) => showNode(node));
  sigma.on('clickNode', ({ node }) => void focusNode(node));
  sigma.on('enterEdge', ({ edge }) => highlightLink(edge));
  sigma.on('clickEdge', ({ edge }) => highlightLink(edge));
  sigma.on('leaveEdge', () => highlightLink(undefined));
  sigma.on('clickStage', () => select(undefined));

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = search.value.trim().toLowerCase();
    const asn = /^(as)?(\d+)$/.exec(q);
    const cluster = asn ? layout.clusters.find((c) => c.as >= 0 && g.ases[c.as]!.asn === Number(asn[2])) : undefined;
    if (cluster) return void focusAs(cluster);
    if (graph.hasNode(q)) return void focusNode(q);
    status.textContent = `${q || 'That'} is not in the map (an address as the map writes it, or an AS number).`;
  });

  for (const c of layout.clusters.slice(0, LEGEND_ASES)) {
    const li = browser.document.createElement('li');
    const button = browser.document.createElement('button');
    button.type = 'button';
    const swatch = browser.document.createElement('span');
    swatch.className = 'swatch';
    // A CSSOM property, not a style attribute: the manager's CSP allows no inline styles.
    swatch.style.backgroundColor = colourOf(c.as);
    const name = c.as < 0 ? 'No AS' : `AS${g.ases[c.as]!.asn} ${g.ases[c.as]!.org ?? ''}`.trim();
    button.append(swatch, `${name} (${c.count})`);
    button.addEventListener('click', () => void focusAs(c));
    li.append(button);
    legend.append(li);
  }
  const more = layout.clusters.length - LEGEND_ASES;
  status.textContent =
    `${n.toLocaleString('en')} addresses, ${m.toLocaleString('en')} links${g.truncated ? ' (the first ones: the map has more)' : ''}, ` +
    `coloured by AS${more > 0 ? ` (${layout.clusters.length} groups, the ${LEGEND_ASES} largest listed)` : ''}. Scroll or pinch to zoom, drag to pan.`;
}

function markRendered(nodes: number, links: number, fetchedAt: number, builtAt: number): void {
  root.dataset.renderedNodes = String(nodes);
  root.dataset.renderedLinks = String(links);
  root.dataset.fetchMs = fetchedAt.toFixed(1);
  root.dataset.buildMs = (builtAt - fetchedAt).toFixed(1);
  root.dataset.renderedAt = performance.now().toFixed(1);
}

main().catch((err: unknown) => {
  status.textContent = err instanceof Error ? err.message : String(err);
  root.dataset.error = status.textContent;
});
