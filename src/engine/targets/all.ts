import { TargetKind } from './types';
import { classKind } from './class';

/** Every target kind; a new kind is one file exporting a TargetKind, added here. */
export const allTargetKinds: ReadonlyArray<TargetKind> = [classKind];
