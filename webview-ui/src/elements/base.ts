// A minimal base for the panel's custom elements: open shadow root, constructable stylesheets
// (allowed under a strict CSP without 'unsafe-inline'), batched updates and bubbling events.

const sheets = new Map<string, CSSStyleSheet>();

function sheet(css: string): CSSStyleSheet {
  let s = sheets.get(css);
  if (!s) {
    s = new CSSStyleSheet();
    s.replaceSync(css);
    sheets.set(css, s);
  }
  return s;
}

const COMMON = `
:host { display: block; color: var(--vscode-foreground); font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); }
[hidden] { display: none !important; }
.muted { color: var(--vscode-descriptionForeground); }
.row { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
label.field { display: flex; flex-direction: column; gap: 2px; min-width: 120px; }
h3 { font-size: 11px; font-weight: 600; text-transform: uppercase; letter-spacing: .04em; margin: 12px 0 6px; color: var(--vscode-descriptionForeground); }
`;

export abstract class AlElement extends HTMLElement {
  protected readonly root: ShadowRoot;
  private pending = false;

  constructor(css: string) {
    super();
    this.root = this.attachShadow({ mode: 'open' });
    this.root.adoptedStyleSheets = [sheet(COMMON), sheet(css)];
  }

  connectedCallback(): void {
    this.update();
  }

  /** Re-render on the next microtask; several property changes give one update. */
  protected requestUpdate(): void {
    if (this.pending) return;
    this.pending = true;
    queueMicrotask(() => {
      this.pending = false;
      if (this.isConnected) this.update();
    });
  }

  protected abstract update(): void;

  /** Events bubble out of shadow roots so <al-app> hears them. */
  protected emit<T>(name: string, detail: T): void {
    this.dispatchEvent(new CustomEvent<T>(name, { detail, bubbles: true, composed: true }));
  }
}

type Child = Node | string | number | null | undefined | false;

/** Children without the empty slots, for replaceChildren/append. */
export function nodes(...children: Child[]): Array<Node | string> {
  return children.filter((c): c is Node | string | number => c !== null && c !== undefined && c !== false).map((c) => (typeof c === 'number' ? String(c) : c));
}
type Props = Record<string, unknown>;

/** Builds an element: `class`, `on:<event>` listeners, `attr:<name>` attributes, other keys as properties. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props?: Props, ...children: Child[]): HTMLElementTagNameMap[K];
export function h(tag: string, props?: Props, ...children: Child[]): HTMLElement;
export function h(tag: string, props: Props = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined) continue;
    if (k === 'class') el.className = String(v);
    else if (k.startsWith('on:')) el.addEventListener(k.slice(3), v as EventListener);
    else if (k.startsWith('attr:')) {
      if (v !== false && v !== null) el.setAttribute(k.slice(5), v === true ? '' : String(v));
    } else (el as unknown as Record<string, unknown>)[k] = v;
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(typeof c === 'number' ? String(c) : c);
  return el;
}

/** Short display of a raw attribution value. */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(2);
  const s = v.toPrecision(3);
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}
