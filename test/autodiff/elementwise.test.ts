import { test } from 'node:test';
import { checkCase } from './fd';
import { elementwiseCases } from './cases/elementwise';

for (const c of elementwiseCases) test(`FD: ${c.name}`, { todo: c.todo }, async () => void (await checkCase(c)));
