import { test } from 'node:test';
import { checkCase } from './fd';
import { normCases } from './cases/norm';

for (const c of normCases) test(`FD: ${c.name}`, { todo: c.todo }, async () => void (await checkCase(c)));
