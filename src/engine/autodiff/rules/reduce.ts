import { GradRule } from '../types';

export const reduceRules: Record<string, GradRule> = {};
