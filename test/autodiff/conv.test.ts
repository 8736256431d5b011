import { test } from 'node:test';
import { checkCase } from './fd';
import { convCases } from './cases/conv';

for (const c of convCases) test(`FD: ${c.name}`, { todo: c.todo }, async () => void (await checkCase(c)));
