// A virtualised grid of item cells: the page scrolls as if every cell were there, but only the
// rows near the viewport are in the DOM (10,000 images stay responsive). Cells are fixed-size and
// placed by CSSOM (the CSP allows no inline style attributes).
export const CELL_W = 148;
export const CELL_H = 190;
/** rows kept above and below the viewport, so a fast scroll shows no blank rows */
const OVERSCAN = 2;

export class VirtualGrid {
  readonly el: HTMLDivElement;
  private order: number[] = [];
  private cols = 1;
  private readonly live = new Map<number, HTMLElement>();
  private frame = 0;

  constructor(private readonly make: (itemIndex: number) => HTMLElement) {
    this.el = document.createElement('div');
    this.el.className = 'grid';
    this.el.setAttribute('role', 'list');
    const schedule = (): void => {
      if (this.frame) return;
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.render();
      });
    };
    window.addEventListener('scroll', schedule, { passive: true });
    // render() sees a new column count and places every cell again
    window.addEventListener('resize', schedule);
  }

  /** Shows these items (indices into the report), in this order. */
  setOrder(order: number[]): void {
    this.order = order;
    for (const el of this.live.values()) el.remove();
    this.live.clear();
    this.layout();
    this.render();
  }

  get count(): number {
    return this.order.length;
  }

  private layout(): void {
    this.cols = Math.max(1, Math.floor((this.el.clientWidth || document.documentElement.clientWidth) / CELL_W));
    this.el.style.height = `${Math.ceil(this.order.length / this.cols) * CELL_H}px`;
  }

  /** Puts the rows the viewport can see (plus a margin) in the DOM and takes the rest out. */
  render(): void {
    const cols = Math.max(1, Math.floor((this.el.clientWidth || document.documentElement.clientWidth) / CELL_W));
    if (cols !== this.cols) {
      this.cols = cols;
      this.layout();
      for (const el of this.live.values()) el.remove();
      this.live.clear();
    }
    const rect = this.el.getBoundingClientRect();
    const top = Math.max(0, -rect.top);
    const bottom = Math.min(rect.height, window.innerHeight - rect.top);
    const want = new Set<number>();
    if (bottom > 0 && this.order.length > 0) {
      const first = Math.max(0, Math.floor(top / CELL_H) - OVERSCAN);
      const last = Math.min(Math.ceil(this.order.length / cols) - 1, Math.floor(bottom / CELL_H) + OVERSCAN);
      for (let r = first; r <= last; r++) {
        for (let c = 0; c < cols; c++) {
          const pos = r * cols + c;
          if (pos < this.order.length) want.add(pos);
        }
      }
    }
    for (const [pos, el] of this.live) {
      if (!want.has(pos)) {
        el.remove();
        this.live.delete(pos);
      }
    }
    for (const pos of want) {
      if (this.live.has(pos)) continue;
      const el = this.make(this.order[pos]);
      el.dataset.pos = String(pos);
      el.style.transform = `translate(${(pos % cols) * CELL_W}px, ${Math.floor(pos / cols) * CELL_H}px)`;
      this.el.append(el);
      this.live.set(pos, el);
    }
  }
}
