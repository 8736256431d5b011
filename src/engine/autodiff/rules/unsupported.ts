import { AttrLensError } from '../../core/errors';
import { RuleContext } from '../types';

/** A one-line error for an attribute combination whose gradient is not implemented. */
export function unsupported(ctx: RuleContext, what: string): never {
  const node = ctx.node;
  throw new AttrLensError(
    `node '${node.name || node.output[0]}' (${node.opType}): gradients through ${what} are not supported; use a gradient-free method (occlusion, feature-ablation) for this model`,
    'ENOGRADRULE',
  );
}
