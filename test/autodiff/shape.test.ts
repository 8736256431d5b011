import { test } from 'node:test';
import { checkCase } from './fd';
import { resizeCases, shapeCases } from './cases/shape';

for (const c of [...shapeCases, ...resizeCases]) test(`FD: ${c.name}`, { todo: c.todo }, async () => void (await checkCase(c)));
