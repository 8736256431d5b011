// Groups a model's layers by module path, the way PyTorch named them (vscode-free).

export interface LayerEntry {
  /** tensor name, e.g. `/layer4/layer4.1/conv2/Conv_output_0` */
  name: string;
  /** module path from the node name, e.g. `layer4.layer4.1.conv2` */
  module: string;
  op: string;
  dims: number[];
}

export interface ModuleNode {
  /** this level's name, e.g. `layer4.1` */
  segment: string;
  /** segments from the root down to this node */
  path: string[];
  children: ModuleNode[];
  layers: LayerEntry[];
}

/**
 * `layer4.layer4.1.conv2` → [`layer4`, `layer4.1`, `conv2`]: PyTorch writes a child of a
 * Sequential as `parent.index`, so a numeric part belongs to the segment before it.
 */
export function moduleSegments(module: string): string[] {
  const out: string[] = [];
  for (const part of module.split('.')) {
    if (!part) continue;
    if (/^\d+$/.test(part) && out.length > 0) out[out.length - 1] += `.${part}`;
    else out.push(part);
  }
  return out;
}

/** A tree of modules; layers without a module path sit on the root. Order follows the graph. */
export function buildModuleTree(layers: readonly LayerEntry[]): ModuleNode {
  const root: ModuleNode = { segment: '', path: [], children: [], layers: [] };
  for (const layer of layers) {
    let node = root;
    for (const seg of moduleSegments(layer.module)) {
      let child = node.children.find((c) => c.segment === seg);
      if (!child) {
        child = { segment: seg, path: [...node.path, seg], children: [], layers: [] };
        node.children.push(child);
      }
      node = child;
    }
    node.layers.push(layer);
  }
  return root;
}

/** Number of layers in a subtree. */
export function countLayers(node: ModuleNode): number {
  return node.layers.length + node.children.reduce((s, c) => s + countLayers(c), 0);
}

/**
 * The Python attribute that defines each segment: `layer4.1` is item 1 of `self.layer4`,
 * `conv2` is `self.conv2`. Numeric-only segments (e.g. `0` in an nn.Sequential) have none.
 */
export function attributeName(segment: string): string | undefined {
  const parts = segment.split('.').filter((p) => p && !/^\d+$/.test(p));
  const last = parts[parts.length - 1];
  return last && /^[A-Za-z_][A-Za-z0-9_]*$/.test(last) ? last : undefined;
}
