import { TargetKind } from './types';
import { boxKind } from './box';
import { classKind } from './class';
import { regionKind } from './region';
import { stepKind } from './step';

/** Every target kind; a new kind is one file exporting a TargetKind, added here. */
export const allTargetKinds: ReadonlyArray<TargetKind> = [classKind, boxKind, regionKind, stepKind] as ReadonlyArray<TargetKind>;
