/**
 * The few browser APIs the graph page uses, typed here: the project's tsconfig has no DOM library (adding it
 * would type every server file as if `document` existed), and esbuild bundles this code for the browser.
 */
export interface Element {
  dataset: Record<string, string | undefined>;
  textContent: string | null;
  hidden: boolean;
  className: string;
  type: string;
  value: string;
  style: { backgroundColor: string };
  querySelector(selector: string): Element | null;
  append(...children: (Element | string)[]): void;
  replaceChildren(...children: Element[]): void;
  addEventListener(type: string, listener: (event: { preventDefault(): void }) => void): void;
}

interface Browser {
  document: { getElementById(id: string): Element | null; createElement(tag: string): Element };
  requestAnimationFrame(callback: () => void): number;
  location: { search: string };
}

export const browser = globalThis as unknown as Browser;

/** An element the page's markup must have. */
export function required(parent: Element | null, selector: string): Element {
  const el = parent?.querySelector(selector);
  if (!el) throw new Error(`the graph page has no ${selector}`);
  return el;
}
