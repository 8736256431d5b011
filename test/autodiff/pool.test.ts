import { test } from 'node:test';
import { checkCase } from './fd';
import { poolCases } from './cases/pool';

for (const c of poolCases) test(`FD: ${c.name}`, { todo: c.todo }, async () => void (await checkCase(c)));
