import { test } from 'node:test';
import { checkCase } from './fd';
import { softmaxCases } from './cases/softmax';

for (const c of softmaxCases) test(`FD: ${c.name}`, { todo: c.todo }, async () => void (await checkCase(c)));
