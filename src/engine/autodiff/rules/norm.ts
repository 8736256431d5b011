import { GradRule } from '../types';

export const normRules: Record<string, GradRule> = {};
