import { test } from 'node:test';
import { checkCase } from './fd';
import { matmulCases } from './cases/matmul';

for (const c of matmulCases) test(`FD: ${c.name}`, { todo: c.todo }, async () => void (await checkCase(c)));
