import { test } from 'node:test';
import { checkCase } from './fd';
import { activationCases } from './cases/activation';

for (const c of activationCases) test(`FD: ${c.name}`, { todo: c.todo }, async () => void (await checkCase(c)));
