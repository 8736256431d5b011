import { GradRule } from '../types';

export const softmaxRules: Record<string, GradRule> = {};
