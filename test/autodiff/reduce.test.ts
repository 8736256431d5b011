import { test } from 'node:test';
import { checkCase } from './fd';
import { reduceCases } from './cases/reduce';

for (const c of reduceCases) test(`FD: ${c.name}`, { todo: c.todo }, async () => void (await checkCase(c)));
